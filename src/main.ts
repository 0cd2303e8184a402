// `npm start`: the control plane (API, history, dashboard) and a local worker in one process, with Redis found or
// started. START_WORKER=false starts the control plane alone (its workers run on other Macs).
import { startApi } from './api/start-api.js';
import { loadConfig } from './shared/config.js';
import { createLogger } from './shared/logger.js';
import { ensureRedis } from './shared/redis-bootstrap.js';
import { onShutdown, shutdownTimeoutMs } from './shared/shutdown.js';
import { startWorkerProcess } from './worker/start-worker-process.js';

const config = loadConfig();
const logger = createLogger(config, 'mlxq');
let redis;
try {
  redis = await ensureRedis(config.redisUrl, config.dataDir);
} catch (e) {
  logger.fatal((e as Error).message);
  process.exit(1);
}
const worker = config.startWorker
  ? await startWorkerProcess(config, redis.url, logger.child({ component: 'worker' }))
  : null;
const api = await startApi(config, redis.url, logger.child({ component: 'api' }));
logger.info(
  `API on http://${config.host}:${config.port} (dashboard /ui, queue /admin/queues, docs /docs)${worker ? '' : '; no local worker (START_WORKER=false)'}`,
);
// SIGHUP: check the trainer again now (after installing mlx-lm-lora, or changing MLX_PYTHON's packages).
process.on('SIGHUP', () => void worker?.handle.recheck());
onShutdown(logger, () => ({
  timeoutMs: worker ? shutdownTimeoutMs(config) : config.shutdownTimeoutMs,
  steps: [
    // First: no new connection, open log streams get `event: end` {reason: "shutdown"}.
    { name: 'api', run: () => api.close() },
    ...(worker ? [{ name: 'worker', run: () => worker.close() }] : []),
    { name: 'redis-server', run: async () => redis.stop?.() },
  ],
  force: () => worker?.handle.killTrainers(),
}));
