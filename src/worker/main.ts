// Entrypoint of the worker process (`npm run worker`): one training at a time on this Mac.
import { loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { ensureRedis } from '../shared/redis-bootstrap.js';
import { onShutdown } from '../shared/shutdown.js';
import { startWorkerProcess } from './start-worker-process.js';

const config = loadConfig();
const logger = createLogger(config, 'worker');
const redis = await ensureRedis(config.redisUrl, config.dataDir);
const worker = await startWorkerProcess(config, redis.url, logger);
onShutdown(logger, async () => {
  await worker.close();
  redis.stop?.();
});
