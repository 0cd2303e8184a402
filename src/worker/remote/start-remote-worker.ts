// Composes a worker on another Mac (`npm run worker` with SERVER_URL and WORKER_TOKEN): the worker core with the HTTP
// Reporter (spooled to DATA_DIR/spool), the dataset cache (DATA_DIR/dataset-cache), the pruning of its run folders
// (WORKER_KEEP_RUNS), and Redis for delivery only. It opens no SQLite and loads no server code: everything about a
// run goes to the control plane.
import path from 'node:path';

import type { Logger } from 'pino';

import type { WorkerCredentialView } from '../../contract/health.js';
import type { RunStatus } from '../../domain/run-status.js';
import type { Config } from '../../shared/config.js';
import { createRedis, workerRedisOptions } from '../../shared/queue.js';
import { startWorkerCore, type WorkerHandle } from '../worker-core.js';
import { ControlPlaneError, createControlPlaneClient } from './control-plane-client.js';
import { createDatasetCache } from './dataset-cache.js';
import { createHttpReporter } from './http-reporter.js';
import { createRemoteDataResolver, createRemotePathCheck } from './remote-data.js';
import { pruneRunFolders, serialPrune } from './run-folders.js';

export interface RemoteWorker {
  handle: WorkerHandle;
  close(mode?: 'wait' | 'requeue'): Promise<void>;
}

/** Who this worker is at the control plane; waits for the control plane to answer, fails on a refused token. */
async function whoAmI(
  client: ReturnType<typeof createControlPlaneClient>,
  logger: Logger,
): Promise<WorkerCredentialView> {
  for (let i = 0; ; i++) {
    try {
      return await client.json<WorkerCredentialView>('GET', '/v1/worker/me');
    } catch (e) {
      if (e instanceof ControlPlaneError && e.failure !== 'retry')
        throw new Error(`the control plane refuses this worker: ${e.message}`, { cause: e });
      if (i === 0) logger.warn({ err: (e as Error).message }, 'control plane unreachable; waiting for it');
      await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** i)));
    }
  }
}

/** A run's status at the control plane (one call, no retry); null when it has no such run. */
async function runStatusAt(
  client: ReturnType<typeof createControlPlaneClient>,
  runId: string,
): Promise<RunStatus | null> {
  try {
    return (await client.json<{ status: RunStatus }>('GET', `/v1/worker/runs/${runId}/inputs`)).status;
  } catch (e) {
    if (e instanceof ControlPlaneError && e.status === 404) return null;
    throw e;
  }
}

export async function startRemoteWorker(
  config: Config,
  logger: Logger,
  extra: { trainerEnv?: Record<string, string> } = {},
): Promise<RemoteWorker> {
  if (!config.serverUrl || !config.workerToken)
    throw new Error('a remote worker needs SERVER_URL and WORKER_TOKEN');
  if (!config.redisUrl)
    throw new Error(
      'a remote worker needs REDIS_URL: the Redis of the control plane, which delivers the jobs',
    );
  const client = createControlPlaneClient(config.serverUrl, config.workerToken);
  const me = await whoAmI(client, logger);
  // The control plane knows this worker by its credential's name: attempts, the registry and placement pins use it.
  const named: Config = Object.freeze({ ...config, workerName: me.name });
  const log = logger.child({ worker: me.name });
  const connection = createRedis(config.redisUrl, workerRedisOptions());
  const subscriber = createRedis(config.redisUrl, workerRedisOptions());
  for (const c of [connection, subscriber])
    c.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const cache = createDatasetCache({
    dir: path.join(config.dataDir, 'dataset-cache'),
    maxBytes: config.datasetCacheBytes,
    client,
  });
  const revoked: { handle?: WorkerHandle } = {};
  const reporter = createHttpReporter({
    client,
    workerName: me.name,
    spoolDir: path.join(config.dataDir, 'spool'),
    logger: log,
    onUnauthorized: (reason) => revoked.handle?.revoke(reason),
  });
  const active: { jobs: ReadonlyMap<string, unknown> } = { jobs: new Map() };
  const prune = serialPrune(
    () =>
      pruneRunFolders({
        runsDir: path.join(config.dataDir, 'runs'),
        keep: config.workerKeepRuns,
        active: active.jobs,
        statusOf: (runId) => runStatusAt(client, runId),
        logger: log,
      }),
    log,
  );
  const handle = await startWorkerCore({
    config: named,
    reporter,
    logger: log,
    connection,
    subscriber,
    resolveData: createRemoteDataResolver(cache, me.name),
    checkPaths: createRemotePathCheck(me.name),
    trainerEnv: extra.trainerEnv,
    onJobDone: prune,
    stillAuthorized: async () => {
      try {
        await client.json('GET', '/v1/worker/me');
        return true;
      } catch (e) {
        if (e instanceof ControlPlaneError && e.failure === 'unauthorized') return false;
        return true; // unreachable is not revoked
      }
    },
  });
  revoked.handle = handle;
  active.jobs = handle.active;
  prune();
  log.info({ server: config.serverUrl, remote: true }, 'worker ready');
  return {
    handle,
    async close(mode) {
      try {
        await handle.close(mode);
      } finally {
        connection.disconnect();
        subscriber.disconnect();
      }
    },
  };
}
