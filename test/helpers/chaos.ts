// Chaos-test helpers: worker processes to kill, a Redis of the test's own to stop and start, process checks that do
// not rely on the code under test, and CHAOS_REPEAT to run a scenario many times.
import fs from 'node:fs';
import path from 'node:path';

import { execa, type ResultPromise } from 'execa';
import { expect, it } from 'vitest';

import { npmRunWorker } from '../../scripts/build.mjs';
import type { App } from '../../src/api/app.js';
import { type ScratchRedis, startScratchRedis } from '../../src/shared/redis-bootstrap.js';
import { createTestEnv, MODEL, REPO_ROOT, standInEnv, TEST_DATA, type TestEnv } from './test-env.js';
import { waitFor } from './wait-for.js';

export { MODEL };

/** CHAOS_REPEAT=20 runs every chaos scenario 20 times, each repetition reported as its own test. */
export const CHAOS_REPEAT = Math.max(1, Number.parseInt(process.env.CHAOS_REPEAT ?? '1', 10) || 1);

/**
 * A scenario repeated CHAOS_REPEAT times; 120 s each by default: two worker processes starting on 2 busy cores take
 * most of it. `retry` only with the reason next to the call.
 */
export function chaosIt(name: string, fn: () => Promise<void>, timeoutMs = 120_000, retry?: number): void {
  // Without a retry of its own, a scenario keeps what its describe block says.
  const options = retry === undefined ? { timeout: timeoutMs } : { timeout: timeoutMs, retry };
  for (let i = 1; i <= CHAOS_REPEAT; i++)
    it(CHAOS_REPEAT > 1 ? `${name} [${i}/${CHAOS_REPEAT}]` : name, options, fn);
}

/** Independent of src/: `ps` says whether a pid runs; a zombie (exited, unreaped) counts as gone. */
export async function pidRunning(pid: number): Promise<boolean> {
  const r = await execa('ps', ['-o', 'stat=', '-p', String(pid)], { reject: false });
  const stat = r.stdout.trim();
  return r.exitCode === 0 && stat !== '' && !stat.startsWith('Z');
}

export async function waitPidGone(pid: number, timeoutMs = 15_000): Promise<void> {
  await waitFor(async () => !(await pidRunning(pid)), { timeoutMs, what: `process ${pid} to be gone` });
}

/** The pid of the run's trainer from its pid file, once the trainer runs. */
export async function trainerPid(runDir: string, timeoutMs = 15_000): Promise<number> {
  return waitFor(
    async () => {
      const text = fs.existsSync(path.join(runDir, 'trainer.pid'))
        ? fs.readFileSync(path.join(runDir, 'trainer.pid'), 'utf8')
        : '';
      const pid = Number.parseInt(text, 10);
      return Number.isInteger(pid) && pid > 0 && (await pidRunning(pid)) ? pid : null;
    },
    { timeoutMs, what: 'the trainer pid file' },
  );
}

/**
 * A worker as its own process (`node --import tsx src/worker/main.ts`; with `compiled`, what `npm run worker` runs:
 * the launcher, which starts the compiled dist/worker), to kill or signal.
 */
export interface WorkerProcess {
  pid: number;
  child: ResultPromise;
  /** Everything it printed so far (pino JSON lines). */
  output(): string;
  ready(): Promise<void>;
  exited(): Promise<{ exitCode: number | undefined; signal: string | undefined }>;
}

export function spawnWorker(opts: {
  dataDir: string;
  redisUrl: string;
  prefix: string;
  env?: Record<string, string>;
  compiled?: boolean;
}): WorkerProcess {
  const run = npmRunWorker();
  const argv = opts.compiled
    ? [...run.nodeArgs, run.file, ...run.args]
    : ['--import', 'tsx', 'src/worker/main.ts'];
  const child = execa('node', argv, {
    cwd: REPO_ROOT,
    env: standInEnv({
      DATA_DIR: opts.dataDir,
      REDIS_URL: opts.redisUrl,
      QUEUE_PREFIX: opts.prefix,
      LOG_LEVEL: 'info',
      KILL_GRACE_S: '2',
      CAFFEINATE: 'false',
      RETRY_BASE_DELAY_S: '0.2',
      RETRY_MAX_DELAY_S: '1',
      ...opts.env,
    }),
    reject: false,
    all: true,
    buffer: false,
  });
  let out = '';
  child.all?.on('data', (d: Buffer) => (out += d.toString()));
  const done = child.then((r) => ({ exitCode: r.exitCode, signal: r.signal }));
  return {
    pid: child.pid!,
    child,
    output: () => out,
    async ready() {
      await waitFor(() => out.includes('"worker ready"') || child.exitCode !== null, {
        timeoutMs: 60_000,
        what: 'the worker process to be ready',
      });
      if (!out.includes('"worker ready"')) throw new Error(`the worker process exited early:\n${out}`);
    },
    exited: () => done,
  };
}

/**
 * A redis-server of the test's own (never the shared one) on a free port; appendfsync always, so an outage (stop,
 * a SIGKILL) keeps every write and start brings the queue back.
 */
export type OwnRedis = ScratchRedis;

export function startOwnRedis(): Promise<OwnRedis> {
  return startScratchRedis('append-only-fsync-always', 'chaos');
}

/** Like createTestEnv, on a Redis of the caller's choosing (the outage test's own). */
export type ChaosEnv = TestEnv;

export async function createChaosEnv(redisUrl: string, env: Record<string, string> = {}): Promise<ChaosEnv> {
  return createTestEnv(env, { redisUrl });
}

export function sftRun(
  iters: number,
  saveEvery = 5,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    method: 'sft',
    model: MODEL,
    data: path.join(TEST_DATA, 'sft-chat'),
    iters,
    batch_size: 2,
    steps_per_report: saveEvery,
    save_every: saveEvery,
    ...extra,
  };
}

type Injectable = { inject: App['inject'] };

export async function submit(
  app: Injectable,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  const res = await app.inject({ method: 'POST', url: '/v1/runs', payload: body, headers });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string; runDir: string; adapterPath: string }>();
}

export interface RunJson {
  id: string;
  status: string;
  error: string | null;
  stopReason: string | null;
  runDir: string;
  adapterPath: string;
  checkpoints: string[];
  progress: { iteration: number | null; total: number | null };
  attempts: {
    attempt: number;
    outcome: string | null;
    resumedFrom: string | null;
    startIteration: number | null;
    error: string | null;
  }[];
  events: { fromStatus: string | null; toStatus: string; reason: string | null }[];
}

/** The statuses a run goes through when one attempt is interrupted and the next succeeds. */
export const RESUMED_ONCE = ['queued', 'running', 'interrupted', 'running', 'succeeded'];

export async function getRun(app: Injectable, id: string): Promise<RunJson> {
  return (await app.inject({ method: 'GET', url: `/v1/runs/${id}` })).json();
}

export async function waitStatus(
  app: Injectable,
  id: string,
  statuses: string[],
  timeoutMs = 30_000,
): Promise<RunJson> {
  return waitFor(
    async () => {
      const r = await getRun(app, id);
      return statuses.includes(r.status) ? r : null;
    },
    { timeoutMs, what: `run ${id} to be ${statuses.join(' or ')}` },
  );
}

/** Waits until the run has trained at least `iteration` iterations (progress is recorded as it trains). */
export async function waitIteration(
  app: Injectable,
  id: string,
  iteration: number,
  timeoutMs = 30_000,
): Promise<RunJson> {
  return waitFor(
    async () => {
      const r = await getRun(app, id);
      return (r.progress.iteration ?? 0) >= iteration ? r : null;
    },
    { timeoutMs, what: `run ${id} to reach iteration ${iteration}` },
  );
}

export async function metricIterations(app: Injectable, id: string): Promise<number[]> {
  const m = (await app.inject({ method: 'GET', url: `/v1/runs/${id}/metrics?name=loss&split=train` })).json<{
    points: { iteration: number }[];
  }>();
  return m.points.map((p) => p.iteration);
}

export async function logText(app: Injectable, id: string): Promise<string> {
  return (await app.inject({ method: 'GET', url: `/v1/runs/${id}/logs` })).body;
}
