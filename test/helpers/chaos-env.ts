// A chaos test file's set-up as one declaration: a fresh env per test with the worker processes it spawns, or with a
// redis-server of the test's own; each cleaned up after the test in the order that leaves nothing behind.
import { afterEach, beforeEach } from 'vitest';

import { createChaosEnv, type OwnRedis, spawnWorker, startOwnRedis, type WorkerProcess } from './chaos.js';
import { createTestEnv, redisUrl, type TestEnv } from './test-env.js';
import { currentEnv } from './use-test-env.js';

export interface WorkerProcessEnv {
  /** The current test's env (a fresh one per test). */
  env: TestEnv;
  /** A worker process on the env's DATA_DIR and queue prefix, its trainer at 0.03 s per iteration unless `extraEnv` says otherwise. */
  worker: (extraEnv?: Record<string, string>) => WorkerProcess;
}

/** A fresh TestEnv per test and the worker processes the test spawns: after it, the workers are killed, then the env cleaned up. */
export function useWorkerProcessEnv(): WorkerProcessEnv {
  let env: TestEnv | undefined;
  const workers: WorkerProcess[] = [];
  beforeEach(async () => {
    env = await createTestEnv();
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) {
      w.child.kill('SIGKILL');
      await w.exited();
    }
    await env?.cleanup();
    env = undefined;
  });
  const current = currentEnv(() => env);
  return {
    env: current,
    worker: (extraEnv = {}) => {
      const w = spawnWorker({
        dataDir: current.dataDir,
        redisUrl: redisUrl(),
        prefix: current.config.queuePrefix,
        env: { MLX_STANDIN_STEP_SECONDS: '0.03', ...extraEnv },
      });
      workers.push(w);
      return w;
    },
  };
}

/**
 * A redis-server of each test's own (for tests that stop or flush it) and a TestEnv on it; after the test, Redis runs
 * again (if the test stopped it and failed mid-outage) for the env's clean-up, then both are removed.
 */
export function useOwnRedisEnv(): { env: TestEnv; redis: OwnRedis } {
  let redis: OwnRedis | undefined;
  let env: TestEnv | undefined;
  let stopped = false;
  beforeEach(async () => {
    redis = await startOwnRedis();
    stopped = false;
    env = await createChaosEnv(redis.url);
  });
  afterEach(async () => {
    if (stopped) await redis?.start().catch(() => undefined);
    await env?.cleanup();
    await redis?.cleanup();
    env = redis = undefined;
  });
  const own = (): OwnRedis => {
    if (redis === undefined) throw new Error("the test's own Redis is used outside a test");
    return redis;
  };
  return {
    env: currentEnv(() => env),
    redis: {
      get url() {
        return own().url;
      },
      stop: async () => {
        stopped = true;
        await own().stop();
      },
      start: async () => {
        await own().start();
        stopped = false;
      },
      cleanup: () => own().cleanup(),
    },
  };
}
