// Composes the worker process: SQLite (migrated), two Redis connections, crash recovery and the BullMQ worker.
import type { Logger } from 'pino';

import { closeDb, dbFilePath, openDb, shortenBusyWait } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import { createDataResolver } from '../inputs/resolve-data.js';
import type { Config } from '../shared/config.js';
import { createRedis, workerRedisOptions } from '../shared/queue.js';
import { startWorker, type WorkerHandle } from './create-worker.js';

export async function startWorkerProcess(config: Config, redisUrl: string, logger: Logger) {
  const db = openDb(dbFilePath(config.dataDir));
  migrate(db);
  const connection = createRedis(redisUrl, workerRedisOptions());
  const subscriber = createRedis(redisUrl, workerRedisOptions());
  for (const c of [connection, subscriber])
    c.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const handle: WorkerHandle = await startWorker({
    config,
    db,
    logger,
    connection,
    subscriber,
    resolveData: createDataResolver(config.dataDir),
  });
  logger.info({ worker: config.workerName }, 'worker ready');
  return {
    handle,
    async close(mode?: 'wait' | 'requeue') {
      shortenBusyWait(db);
      try {
        await handle.close(mode);
      } finally {
        // Never waits on Redis: commands still queued for an unreachable Redis are dropped.
        connection.disconnect();
        subscriber.disconnect();
        closeDb(db);
      }
    },
  };
}

export { shutdownTimeoutMs } from '../shared/shutdown.js';
