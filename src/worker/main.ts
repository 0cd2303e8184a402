// Entrypoint of the worker process (`npm run worker`, `mlxq worker`): one training at a time on this Mac. With
// SERVER_URL and WORKER_TOKEN it is a remote worker that reports to that control plane and opens no SQLite; without
// them it works on this DATA_DIR's SQLite beside a control plane on the same Mac. Each kind is loaded only when used.
import { loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { onShutdown, shutdownTimeoutMs } from '../shared/shutdown.js';

const config = loadConfig();
const logger = createLogger(config, 'worker');

if (config.serverUrl) {
  const { startRemoteWorker } = await import('./remote/start-remote-worker.js');
  let worker;
  try {
    worker = await startRemoteWorker(config, logger);
  } catch (e) {
    logger.fatal((e as Error).message);
    process.exit(1);
  }
  process.on('SIGHUP', () => void worker.handle.recheck());
  onShutdown(logger, () => ({
    timeoutMs: shutdownTimeoutMs(config),
    steps: [{ name: 'worker', run: () => worker.close() }],
    force: () => worker.handle.killTrainers(),
  }));
} else {
  const { ensureRedis } = await import('../shared/redis-bootstrap.js');
  const { startWorkerProcess } = await import('./start-worker-process.js');
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
}
