// Composes the API process: SQLite (migrated), Redis, the queue, its reconciler and the Fastify app.
import type { Logger } from 'pino';

import { createDatasetValidator } from '../datasets/validate-dataset.js';
import { closeDb, type Db, dbFilePath, openDb, shortenBusyWait } from '../db/client.js';
import { migrate } from '../db/migrate.js';
import { createPathPolicy } from '../inputs/path-policy.js';
import { createDataResolver } from '../inputs/resolve-data.js';
import { startNotifications } from '../notify/notifications.js';
import { startReconciler } from '../queue-sync/queue-reconciler.js';
import { RECONCILE_SOURCES } from '../queue-sync/sources.js';
import { startLostWorkerWatch } from '../reports/lost-workers.js';
import type { Config } from '../shared/config.js';
import { apiRedisOptions, createRedis, createRunsQueue } from '../shared/queue.js';
import { withDeadline } from '../shared/shutdown.js';
import { type App, buildApp } from './app.js';
import { exposureWarning } from './auth.js';

export interface ApiHandle {
  app: App;
  db: Db;
  close(): Promise<void>;
}

export async function startApi(config: Config, redisUrl: string, logger: Logger): Promise<ApiHandle> {
  const db = openDb(dbFilePath(config.dataDir));
  migrate(db);
  const redis = createRedis(redisUrl, apiRedisOptions());
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  const queue = createRunsQueue(redis, config.queuePrefix);
  queue.on('error', (err) => logger.warn({ err: err.message }, 'queue error'));
  const resolveData = createDataResolver(config.dataDir);
  const app = await buildApp({
    config,
    db,
    queue,
    redis,
    logger,
    inputs: {
      validator: createDatasetValidator(),
      resolveData,
      assertAllowedPath: createPathPolicy(config.allowedRoots),
    },
  });
  await app.listen({ port: config.port, host: config.host });
  // SQLite is the record, Redis the delivery: the control plane makes the queue match (at start, on reconnect, and
  // every RECONCILE_INTERVAL_S).
  const reconciler = startReconciler({
    db,
    queue,
    redis,
    logger,
    sources: RECONCILE_SOURCES,
    intervalMs: config.reconcileIntervalMs,
  });
  // Runs of remote workers that were revoked or went silent move to another worker.
  const lostWorkers = startLostWorkerWatch({
    db,
    redis,
    queue,
    prefix: config.queuePrefix,
    logger,
    heartbeatMs: config.workerHeartbeatMs,
    lostMs: config.workerLostMs,
    margin: config.memoryMargin,
  });
  // Notifications are sent from here, outside every run's path: a slow endpoint never holds up a worker.
  const notifications = startNotifications(db, config, logger.child({ component: 'notify' }));
  const warning = exposureWarning(config);
  if (warning) logger.warn(warning);
  return {
    app,
    db,
    async close() {
      shortenBusyWait(db);
      try {
        await withDeadline(reconciler.stop(), 1000);
        await withDeadline(lostWorkers.stop(), 1000);
        // Open log streams end with `event: end` {reason: "shutdown"} first (runs.ts, preClose), so this is quick.
        await app.close();
        await withDeadline(notifications.close(), 1000);
        await withDeadline(queue.close(), 1000);
      } finally {
        redis.disconnect();
        closeDb(db);
      }
    },
  };
}
