import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { execa, type ResultPromise } from 'execa';
import { afterEach, describe, expect } from 'vitest';

import { freePort } from '../../src/shared/redis-server.js';
import { launchBrowser } from '../helpers/browser.js';
import {
  chaosIt,
  type OwnRedis,
  pidRunning,
  sftRun,
  startOwnRedis,
  trainerPid,
  waitPidGone,
} from '../helpers/chaos.js';
import { redisUrl, REPO_ROOT, standInEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

const cleanups: (() => Promise<void>)[] = [];

/** argv: the database. Holds its write lock until killed; writes lock-held next to it once it has it. */
const HOLD_LOCK = `
import os, sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute('BEGIN IMMEDIATE')
open(os.path.join(os.path.dirname(sys.argv[1]), 'lock-held'), 'w').close()
time.sleep(3600)
`;
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Service {
  base: string;
  child: ResultPromise;
  output(): string;
}

/** `npm start` (or node directly) in its own process group, on a DATA_DIR and queue prefix the caller keeps. */
async function startService(opts: {
  dataDir: string;
  prefix: string;
  redis: string;
  viaNpm: boolean;
  env?: Record<string, string>;
}): Promise<Service> {
  const port = await freePort();
  const env = standInEnv({
    PORT: String(port),
    DATA_DIR: opts.dataDir,
    REDIS_URL: opts.redis,
    QUEUE_PREFIX: opts.prefix,
    LOG_LEVEL: 'warn',
    CAFFEINATE: 'false',
    ALLOWED_ROOTS: [opts.dataDir, REPO_ROOT].join(path.delimiter),
    MLX_STANDIN_STEP_SECONDS: '0.05',
    ...opts.env,
  });
  const [cmd, args] = opts.viaNpm ? ['npm', ['start']] : ['node', ['--import', 'tsx', 'src/main.ts']];
  const child = execa(cmd, args, {
    cwd: REPO_ROOT,
    env,
    reject: false,
    all: true,
    buffer: false,
    detached: true,
  });
  let out = '';
  child.all?.on('data', (d: Buffer) => (out += d.toString()));
  cleanups.push(async () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Handled: the group is gone already (the test stopped it).
    }
    await child;
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => null))?.ok, {
    timeoutMs: 60_000,
    what: `the service:\n${out}`,
  });
  return { base, child, output: () => out };
}

async function submitRun(
  base: string,
  body: Record<string, unknown>,
): Promise<{ id: string; runDir: string }> {
  const res = await fetch(`${base}/v1/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string; runDir: string };
}

const runJson = async (base: string, id: string) =>
  (await (await fetch(`${base}/v1/runs/${id}`)).json()) as {
    status: string;
    error: string | null;
    progress: { iteration: number | null };
    attempts: { outcome: string | null; startIteration: number | null }[];
  };

/** Resolves with the exit time, or null when the process has not exited within `ms`. */
async function exitWithin(child: ResultPromise, ms: number): Promise<number | null> {
  return Promise.race([
    child.then(() => Date.now()),
    new Promise<null>((r) => setTimeout(() => r(null), ms).unref()),
  ]);
}

/** Sends `signal` (to the whole process group when `group`) and expects the service to exit within `boundMs`. */
async function expectStopWithin(
  svc: Service,
  signal: NodeJS.Signals,
  boundMs: number,
  { group = false } = {},
): Promise<void> {
  const signalledAt = Date.now();
  process.kill(group ? -svc.child.pid! : svc.child.pid!, signal);
  const exitedAt = await exitWithin(svc.child, boundMs + 2_000);
  expect(exitedAt, `did not exit within ${boundMs} ms:\n${svc.output()}`).not.toBeNull();
  expect(exitedAt! - signalledAt).toBeLessThanOrEqual(boundMs);
}

/** The run once it is final, as the service answers it. */
async function waitRunEnds(base: string, id: string): Promise<Awaited<ReturnType<typeof runJson>>> {
  return waitFor(
    async () => {
      const r = await runJson(base, id);
      return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : null;
    },
    { timeoutMs: 90_000, what: 'the run to end after the restart' },
  );
}

function tempDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-stop-'));
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * The service on a fresh DATA_DIR and queue prefix, an SFT run of `iters` iterations submitted to it (after
 * `atIteration` when given) and the pid of its running trainer.
 */
async function serviceWithTrainer(opts: {
  iters: number;
  viaNpm: boolean;
  redis?: string;
  env?: Record<string, string>;
  atIteration?: number;
}) {
  const dataDir = tempDataDir();
  const prefix = `mlxq-stop-${randomBytes(4).toString('hex')}`;
  const svc = await startService({
    dataDir,
    prefix,
    redis: opts.redis ?? redisUrl(),
    viaNpm: opts.viaNpm,
    env: opts.env,
  });
  const run = await submitRun(svc.base, sftRun(opts.iters, 5));
  const atIteration = opts.atIteration;
  if (atIteration !== undefined)
    await waitFor(async () => ((await runJson(svc.base, run.id)).progress.iteration ?? 0) >= atIteration, {
      timeoutMs: 60_000,
      what: `iteration ${atIteration}`,
    });
  const pid = await trainerPid(run.runDir, 60_000);
  return { dataDir, prefix, svc, run, pid };
}

// retry: each test measures how long a whole service takes to exit after a signal, a wall-clock bound on 2 cores
// shared with other test files; one run late by a scheduling hiccup is tried once more (a real hang fails twice).
describe('stopping is bounded', { retry: 1 }, () => {
  chaosIt(
    'Ctrl-C (SIGINT to the process group of npm start) with 3 open follow streams: exits within 10 s, no trainer left, and the run resumes after a restart',
    async () => {
      const {
        dataDir,
        prefix,
        svc: first,
        run,
        pid,
      } = await serviceWithTrainer({
        iters: 400,
        viaNpm: true,
        atIteration: 10,
      });
      const texts = [0, 1, 2].map(() =>
        fetch(`${first.base}/v1/runs/${run.id}/logs?follow=true`).then((r) => r.text()),
      );
      // The three streams are open (each has sent its first events) before the signal.
      await waitFor(
        async () =>
          ((await (await fetch(`${first.base}/v1/runs/${run.id}`)).json()) as { status: string }).status ===
          'running',
        { what: 'running' },
      );

      await expectStopWithin(first, 'SIGINT', 10_000, { group: true });
      for (const text of await Promise.all(texts))
        expect(text).toMatch(/event: end\ndata: \{"reason":"shutdown"/);
      await waitPidGone(pid, 2_000);
      expect(await pidRunning(pid)).toBe(false);

      const second = await startService({ dataDir, prefix, redis: redisUrl(), viaNpm: false });
      const done = await waitRunEnds(second.base, run.id);
      expect(done.status, done.error ?? '').toBe('succeeded');
      expect(done.attempts[0]!.outcome).toBe('interrupted');
      expect(done.attempts.at(-1)!.startIteration).toBeGreaterThanOrEqual(5);
      process.kill(-second.child.pid!, 'SIGTERM');
      expect(await exitWithin(second.child, 10_000)).not.toBeNull();
    },
    240_000,
  );

  chaosIt(
    'SIGTERM after Redis was stopped: the process exits within 10 s and leaves no trainer',
    async () => {
      const redis: OwnRedis = await startOwnRedis();
      cleanups.push(() => redis.cleanup());
      const { svc, pid } = await serviceWithTrainer({ iters: 400, viaNpm: false, redis: redis.url });
      await redis.stop();
      await expectStopWithin(svc, 'SIGTERM', 10_000);
      await waitPidGone(pid, 2_000);
    },
    180_000,
  );
  chaosIt(
    'Ctrl-C with the run page open in Chromium (its live log follows the run): exits within 10 s and leaves no trainer',
    async () => {
      const { svc, run, pid } = await serviceWithTrainer({ iters: 400, viaNpm: true });
      const browser = await launchBrowser();
      cleanups.push(() => browser.close());
      const page = await browser.newPage();
      await page.goto(`${svc.base}/ui/runs/${run.id}`);
      // The page's log tail is live (its EventSource connected) and shows the run's report lines.
      await page.locator('#log', { hasText: 'Iter' }).waitFor({ timeout: 30_000 });
      await page.locator('#log-state', { hasText: 'live' }).waitFor({ timeout: 30_000 });

      await expectStopWithin(svc, 'SIGINT', 10_000, { group: true });
      await waitPidGone(pid, 2_000);
    },
    180_000,
  );

  chaosIt(
    "a second signal forces the exit (wait mode with an hour-long deadline) and still stops the trainer's process group",
    async () => {
      const { svc, pid } = await serviceWithTrainer({
        iters: 4000,
        viaNpm: false,
        env: { SHUTDOWN_MODE: 'wait', SHUTDOWN_DEADLINE_S: '3600', SHUTDOWN_TIMEOUT_S: '3600' },
      });
      process.kill(svc.child.pid!, 'SIGTERM');
      // Wait mode: the first signal lets the run go on.
      expect(await exitWithin(svc.child, 3_000)).toBeNull();
      expect(await pidRunning(pid)).toBe(true);
      await expectStopWithin(svc, 'SIGTERM', 5_000);
      await waitPidGone(pid, 2_000);
    },
    180_000,
  );

  chaosIt(
    "SIGTERM while another process holds SQLite's write lock: the process exits within 10 s, no trainer is left, and the run resumes after a restart",
    async () => {
      const { dataDir, prefix, svc, run, pid } = await serviceWithTrainer({
        iters: 300,
        viaNpm: false,
        atIteration: 10,
      });
      // Every write of the service now waits busy_timeout and fails: SQLite is unreachable for writing.
      const holder = execa('python3', ['-c', HOLD_LOCK, path.join(dataDir, 'mlxq.sqlite')], {
        reject: false,
      });
      cleanups.push(async () => {
        holder.kill();
        await holder;
      });
      await waitFor(async () => fs.existsSync(path.join(dataDir, 'lock-held')), {
        timeoutMs: 15_000,
        what: 'the write lock',
      });
      await expectStopWithin(svc, 'SIGTERM', 10_000);
      await waitPidGone(pid, 2_000);
      holder.kill();
      await holder;

      const again = await startService({ dataDir, prefix, redis: redisUrl(), viaNpm: false });
      const done = await waitRunEnds(again.base, run.id);
      expect(done.status, done.error ?? '').toBe('succeeded');
      expect(done.attempts.at(-1)!.startIteration).toBeGreaterThanOrEqual(5);
      process.kill(again.child.pid!, 'SIGTERM');
      expect(await exitWithin(again.child, 10_000)).not.toBeNull();
    },
    240_000,
  );
});
