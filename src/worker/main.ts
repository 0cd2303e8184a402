// Entrypoint of the worker process (`npm run worker`): one training at a time on this Mac.
import { loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { ensureRedis } from '../shared/redis-bootstrap.js';
import { onShutdown } from '../shared/shutdown.js';
import { shutdownTimeoutMs, startWorkerProcess } from './start-worker-process.js';

const config = loadConfig();
const logger = createLogger(config, 'worker');
const redis = await ensureRedis(config.redisUrl, config.dataDir);
const worker = await startWorkerProcess(config, redis.url, logger);
// SIGHUP: check the trainer again now (after installing mlx-lm-lora, or changing MLX_PYTHON's packages).
process.on('SIGHUP', () => void worker.handle.recheck());
onShutdown(logger, () => ({
  timeoutMs: shutdownTimeoutMs(config),
  steps: [
    { name: 'worker', run: () => worker.close() },
    { name: 'redis-server', run: async () => redis.stop?.() },
  ],
  force: () => worker.handle.killTrainers(),
}));
