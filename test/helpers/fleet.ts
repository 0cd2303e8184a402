// A fleet for tests: one control-plane process (API, history) and remote worker processes, each with its own
// DATA_DIR, sharing the test Redis under one queue prefix. Workers get their tokens from POST /v1/workers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';

import type { App } from '../../src/api/app.js';
import { isFinal, type RunStatus } from '../../src/domain/run-status.js';
import { RUNS_QUEUE } from '../../src/shared/queue.js';
import { spawnWorker, type WorkerProcess } from './chaos.js';
import { type ControlPlaneProcess, startControlPlane } from './control-plane-process.js';
import { redisUrl } from './test-env.js';
import { current } from './use-test-env.js';

/** What the chaos helpers (submit, getRun, waitStatus, logText) use of an app's inject, over real HTTP instead. */
export type HttpInjectable = { inject: App['inject'] };

export interface RemoteWorker extends WorkerProcess {
  name: string;
  id: string;
  token: string;
  dataDir: string;
}

export interface Fleet {
  cp: ControlPlaneProcess;
  app: HttpInjectable;
  queue: Queue;
  /** Registers a worker (POST /v1/workers) and starts it as a process of its own. */
  spawn(name: string, env?: Record<string, string>): Promise<RemoteWorker>;
  /** SIGKILLs every worker started so far and removes its DATA_DIR (between tests). */
  killWorkers(): Promise<void>;
  cleanup(): Promise<void>;
}

/** Heartbeats every second: a worker that vanishes is judged lost after two. */
export const FLEET_ENV = {
  WORKER_HEARTBEAT_S: '1',
  WORKER_LOST_S: '2',
  RESUME_DELAY_S: '0.2',
  STALLED_INTERVAL_S: '2',
};

export async function startFleet(env: Record<string, string> = {}): Promise<Fleet> {
  const cp = await startControlPlane({ ...FLEET_ENV, ...env });
  const inject = async (o: { method: string; url: string; payload?: unknown }) => {
    const r = await cp.http(o.method, o.url, o.payload, undefined);
    return { statusCode: r.status, body: r.text, json: () => r.json };
  };
  const app = { inject } as unknown as HttpInjectable;
  const connection = new Redis(redisUrl(), { maxRetriesPerRequest: null });
  const queue = new Queue(RUNS_QUEUE, { connection, prefix: cp.prefix });
  const workers: RemoteWorker[] = [];
  const killWorkers = async () => {
    for (const w of workers.splice(0)) {
      w.child.kill('SIGKILL');
      await w.exited();
      fs.rmSync(w.dataDir, { recursive: true, force: true });
    }
  };
  return {
    cp,
    app,
    queue,
    async spawn(name, extra = {}) {
      const created = await cp.http<{ id: string; token: string }>('POST', '/v1/workers', { name });
      if (created.status !== 201) throw new Error(`POST /v1/workers: ${created.status} ${created.text}`);
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `mlxq-fleet-${name}-`));
      const w = spawnWorker({
        dataDir,
        redisUrl: redisUrl(),
        prefix: cp.prefix,
        env: {
          SERVER_URL: cp.url,
          WORKER_TOKEN: created.json.token,
          ...FLEET_ENV,
          MLX_STANDIN_STEP_SECONDS: '0.1',
          ...extra,
        },
      });
      const remote = Object.assign(w, { name, id: created.json.id, token: created.json.token, dataDir });
      workers.push(remote);
      await remote.ready();
      return remote;
    },
    killWorkers,
    async cleanup() {
      await killWorkers();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      connection.disconnect();
      await cp.cleanup();
    },
  };
}

/**
 * A test file's fleet, as one declaration: started before the file's first test and stopped after its last. After
 * each test, runs a failed scenario left unfinished are cancelled (so they reach no later test's workers), every
 * worker is killed and the queue drained. `unique` names workers apart across the file's tests.
 */
export function useFleet(env: Record<string, string> = {}): {
  fleet: Fleet;
  unique: (name: string) => string;
} {
  let started: Fleet | undefined;
  beforeAll(async () => {
    started = await startFleet(env);
  }, 180_000);
  afterEach(async () => {
    if (!started) return;
    const listed = await started.cp.http<{ items?: { id: string; status: string }[] }>(
      'GET',
      '/v1/runs?limit=200',
    );
    for (const r of listed.json.items ?? [])
      if (!isFinal(r.status as RunStatus)) await started.cp.http('POST', `/v1/runs/${r.id}/cancel`);
    await started.killWorkers();
    await started.queue.drain(true);
  });
  afterAll(async () => {
    await started?.cleanup();
    started = undefined;
  });
  let n = 0;
  return { fleet: current(() => started, 'the fleet'), unique: (name) => `${name}-${++n}` };
}
