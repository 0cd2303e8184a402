// Entrypoint of the API process (`npm run api`).
import { loadConfig } from '../shared/config.js';
import { createLogger } from '../shared/logger.js';
import { ensureRedis } from '../shared/redis-bootstrap.js';
import { onShutdown } from '../shared/shutdown.js';
import { startApi } from './start-api.js';

const config = loadConfig();
const logger = createLogger(config, 'api');
const redis = await ensureRedis(config.redisUrl, config.dataDir);
const api = await startApi(config, redis.url, logger);
onShutdown(logger, () => ({
  timeoutMs: config.shutdownTimeoutMs,
  steps: [
    { name: 'api', run: () => api.close() },
    { name: 'redis-server', run: async () => redis.stop?.() },
  ],
  force: () => undefined,
}));
