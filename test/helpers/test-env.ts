// A full service for one test: temp DATA_DIR and SQLite, its own queue prefix on the test Redis, app and worker.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { inject } from 'vitest';

import { type App, buildApp } from '../../src/api/app.js';
import { createDatasetValidator } from '../../src/datasets/validate-dataset.js';
import { closeDb, type Db, openDb } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { getRun } from '../../src/db/runs-repository.js';
import { createPathPolicy } from '../../src/inputs/path-policy.js';
import { createDataResolver } from '../../src/inputs/resolve-data.js';
import { type Reconciler, startReconciler } from '../../src/queue-sync/queue-reconciler.js';
import { RECONCILE_SOURCES } from '../../src/queue-sync/sources.js';
import { type Config, loadConfig } from '../../src/shared/config.js';
import { trainJobIdFor } from '../../src/shared/job-kinds.js';
import { apiRedisOptions, createRedis, createRunsQueue, workerRedisOptions } from '../../src/shared/queue.js';
import { runQueuesOf } from '../../src/shared/run-queues.js';
import { startWorker, type WorkerHandle } from '../../src/worker/create-worker.js';
import { waitFor } from './wait-for.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
export const TEST_DATA = path.join(REPO_ROOT, 'test_data');
/** The model id the tests' requests name (the stand-in never downloads it). */
export const MODEL = 'mlx-community/Qwen2.5-0.5B-Instruct-4bit';

/** Environment that puts the stand-in mlx_lm_lora package first on PYTHONPATH. */
export function standInEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PYTHONPATH: [FIXTURES, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter), ...extra };
}

export function redisUrl(): string {
  return inject('redisUrl');
}

export interface TestEnv {
  config: Config;
  dataDir: string;
  prefix: string;
  db: Db;
  redis: Redis;
  queue: Queue;
  app: App;
  /** The queue reconciler of the control plane, on this env's SQLite and Redis (tests opt in). */
  startReconciler(intervalMs?: number): Reconciler;
  startWorker(opts?: {
    trainerEnv?: Record<string, string>;
    lock?: Parameters<typeof startWorker>[0]['lock'];
    config?: Partial<Config>;
  }): Promise<WorkerHandle>;
  cleanup(): Promise<void>;
}

/** A service on the suite's Redis, or on `opts.redisUrl` (a test's own Redis that it may stop and start). */
export async function createTestEnv(
  env: Record<string, string> = {},
  opts: { redisUrl?: string } = {},
): Promise<TestEnv> {
  const url = opts.redisUrl ?? redisUrl();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-test-'));
  const prefix = `mlxq-test-${randomBytes(6).toString('hex')}`;
  const config = loadConfig({
    DATA_DIR: dataDir,
    QUEUE_PREFIX: prefix,
    MLX_PYTHON: 'python3',
    LOG_LEVEL: 'silent',
    KILL_GRACE_S: '2',
    CAFFEINATE: 'false',
    // Backoffs of a fraction of a second keep retry tests quick; the policy's arithmetic has its unit tests.
    RETRY_BASE_DELAY_S: '0.2',
    RETRY_MAX_DELAY_S: '1',
    ALLOWED_ROOTS: [dataDir, REPO_ROOT, os.tmpdir()].join(path.delimiter),
    HOME: os.tmpdir(),
    ...env,
  });
  const db = openDb(path.join(dataDir, 'mlxq.sqlite'));
  migrate(db);
  const redis = createRedis(url, apiRedisOptions());
  // Outages are what some tests are about; requests report them.
  redis.on('error', () => undefined);
  // The API's connection queues no command while it connects (it fails fast instead), so a test that writes through
  // env.redis at once must find it connected, as the service's own start-up does.
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  const queue = createRunsQueue(redis, prefix);
  queue.on('error', () => undefined);
  const resolveData = createDataResolver(dataDir);
  const app = await buildApp({
    config,
    db,
    queue,
    redis,
    logger: false,
    checkResponses: true,
    inputs: {
      validator: createDatasetValidator(),
      resolveData,
      assertAllowedPath: createPathPolicy(config.allowedRoots),
    },
  });
  const workers: { handle: WorkerHandle; conns: Redis[] }[] = [];
  const reconcilers: Reconciler[] = [];
  return {
    config,
    dataDir,
    prefix,
    db,
    redis,
    queue,
    app,
    startReconciler(intervalMs = 500) {
      const r = startReconciler({
        db,
        queue,
        redis,
        logger: pino({ level: process.env.TEST_WORKER_LOG ?? 'silent' }),
        sources: RECONCILE_SOURCES,
        intervalMs,
      });
      reconcilers.push(r);
      return r;
    },
    async startWorker(opts = {}) {
      const conns = [createRedis(url, workerRedisOptions()), createRedis(url, workerRedisOptions())];
      for (const c of conns) c.on('error', () => undefined);
      // Each worker of this process has its own name, as each Mac's worker has: leases and the registry tell them apart.
      const name = `${config.workerName}#${workers.length + 1}`;
      const handle = await startWorker({
        config: { ...config, workerName: name, ...opts.config },
        db,
        logger: pino({ level: process.env.TEST_WORKER_LOG ?? 'silent' }),
        connection: conns[0]!,
        subscriber: conns[1]!,
        resolveData,
        trainerEnv: standInEnv(opts.trainerEnv),
        lock: opts.lock,
      });
      workers.push({ handle, conns });
      return handle;
    },
    async cleanup() {
      for (const r of reconcilers) await r.stop();
      for (const w of workers) {
        await w.handle.close('requeue').catch(() => undefined);
        for (const c of w.conns) c.disconnect();
      }
      await app.close();
      for (const q of await runQueuesOf(queue, redis, prefix)
        .all()
        .catch(() => [queue]))
        await q.obliterate({ force: true }).catch(() => undefined);
      await queue.close().catch(() => undefined);
      await deleteKeys(redis, `${prefix}:*`).catch(() => undefined);
      redis.disconnect();
      closeDb(db);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** The id of the job that carries a run now (its running attempt's, else the next one's), read from SQLite. */
export function currentJobId(env: Pick<TestEnv, 'db'>, runId: string): string {
  const run = getRun(env.db, runId);
  if (!run) throw new Error(`no run ${runId}`);
  return trainJobIdFor(run);
}

/** The queue of a run's jobs (train and follow-up): the shared one, or its placement's (src/shared/run-queues.ts). */
export function runQueue(
  env: Pick<TestEnv, 'db' | 'queue' | 'redis' | 'prefix' | 'config'>,
  runId: string,
): Queue {
  const run = getRun(env.db, runId);
  if (!run) throw new Error(`no run ${runId}`);
  return runQueuesOf(env.queue, env.redis, env.prefix).forRun(run, env.config.memoryMargin);
}

/** The BullMQ state of the job that carries a run now. */
export async function currentJobState(
  env: Pick<TestEnv, 'db' | 'queue' | 'redis' | 'prefix' | 'config'>,
  runId: string,
): Promise<string> {
  return runQueue(env, runId).getJobState(currentJobId(env, runId));
}

/**
 * Waits until the run's current job is in `state` in Redis. A run's final status is written to SQLite before its
 * worker moves the job to its end in Redis, so a test that has seen the final status must wait for the job's.
 */
export async function waitJobState(
  env: Pick<TestEnv, 'db' | 'queue' | 'redis' | 'prefix' | 'config'>,
  runId: string,
  state: string,
  timeoutMs = 15_000,
): Promise<void> {
  await waitFor(async () => (await currentJobState(env, runId)) === state, {
    timeoutMs,
    what: `the job to be ${state}`,
  });
}
