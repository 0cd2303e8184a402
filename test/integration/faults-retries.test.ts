import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { execa } from 'execa';
import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { RunDetail } from '../../src/contract/runs.js';
import { getRun, RESUMED_ONCE, sftRun, submit, waitStatus } from '../helpers/chaos.js';
import { createTestEnv, currentJobId, type TestEnv, waitJobState } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

/** argv: database, signal file, seconds. Holds the write lock; releases it that long after the signal file appears. */
const HOLD_WRITE_LOCK = `
import os, sqlite3, sys, time
db, signal, hold = sys.argv[1], sys.argv[2], float(sys.argv[3])
con = sqlite3.connect(db, isolation_level=None)
con.execute('BEGIN IMMEDIATE')
open(signal + '.locked', 'w').close()
deadline = time.time() + 60
while not os.path.exists(signal) and time.time() < deadline:
    time.sleep(0.02)
time.sleep(hold)
con.execute('COMMIT')
`;

let env: TestEnv | undefined;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-retries-'));
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('retries', () => {
  it('a trainer that rejects its arguments (exit 2) fails for good: one attempt, the job failed as unrecoverable', async () => {
    // A Python that appends an argument the trainer's argparse does not know: a real usage error, exit 2.
    const python = path.join(tmp, 'python-bad-flag');
    fs.writeFileSync(python, '#!/bin/sh\nexec python3 "$@" --no-such-flag\n', { mode: 0o755 });
    env = await createTestEnv({ MLX_PYTHON: python, TRAINER_FAILURE_ATTEMPTS: '3' });
    await env.startWorker();
    const created = await submit(env.app, sftRun(10));
    const run = await waitStatus(env.app, created.id, ['failed', 'succeeded', 'cancelled']);
    expect(run.status).toBe('failed');
    expect(run.stopReason).toBe('usage_error');
    expect(run.error).toMatch(/rejected its arguments \(exit 2\)/);
    expect(run.error).toMatch(/unrecognized arguments: --no-such-flag/);
    expect(run.attempts).toEqual([expect.objectContaining({ attempt: 1, outcome: 'failed', exitCode: 2 })]);
    const job = (await env.queue.getJob(currentJobId(env, created.id)))!;
    expect(await job.getState()).toBe('failed');
    expect(job.failedReason).toMatch(/exit 2/);
  });

  it('a trainer failure (exit 1) is retried after a backoff when MAX_ATTEMPTS allows, resuming from the newest checkpoint', async () => {
    env = await createTestEnv({ MAX_ATTEMPTS: '2' });
    // Crashes once at iteration 8 (after checkpoint 5); the retried attempt does not crash.
    const once = path.join(tmp, `crash-once-${Date.now()}`);
    await env.startWorker({
      trainerEnv: { MLX_STANDIN_CRASH_AT_ITER: '8', MLX_STANDIN_CRASH_ONCE_FILE: once },
    });
    const created = await submit(env.app, sftRun(20, 5));
    const run = await waitStatus(env.app, created.id, ['failed', 'succeeded', 'cancelled']);
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect(fs.existsSync(once)).toBe(true);
    expect(run.attempts).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'failed', exitCode: 1 }),
      expect.objectContaining({ attempt: 2, outcome: 'succeeded', startIteration: 5 }),
    ]);
    expect(run.events.map((e) => e.toStatus)).toEqual(RESUMED_ONCE);
    expect(run.events[2]!.reason).toMatch(/attempt 1 failed \(exit_code\); 1 of 2: retrying in/);
    expect(run.checkpoints).toEqual([
      '0000005_adapters.safetensors',
      '0000010_adapters.safetensors',
      '0000015_adapters.safetensors',
      '0000020_adapters.safetensors',
    ]);
  });

  it('a trainer that keeps failing (exit 1) ends failed after MAX_ATTEMPTS attempts', async () => {
    env = await createTestEnv({ MAX_ATTEMPTS: '2' });
    await env.startWorker({ trainerEnv: { MLX_STANDIN_CRASH_AT_ITER: '3' } });
    const created = await submit(env.app, sftRun(20, 5));
    const run = await waitStatus(env.app, created.id, ['failed', 'succeeded', 'cancelled']);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/exited with code 1/);
    expect(run.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
    ]);
    await waitJobState(env, created.id, 'failed');
    expect((await getRun(env.app, created.id)).attempts).toHaveLength(2);
  });

  it('a run the worker cannot process (its uploaded dataset vanished) ends failed with the reason, not stuck queued', async () => {
    env = await createTestEnv();
    const created = await submit(env.app, sftRun(10));
    // As if the upload the run names had been deleted from DATA_DIR/datasets after the submission.
    env.db.$client
      .prepare('UPDATE runs SET data = ? WHERE id = ?')
      .run(`dataset:${'ab'.repeat(32)}`, created.id);
    await env.startWorker();
    const run = await waitStatus(env.app, created.id, ['failed', 'succeeded', 'cancelled']);
    expect(run.status).toBe('failed');
    expect(run.stopReason).toBe('worker_error');
    expect(run.error).toMatch(/could not process the run: .*no uploaded dataset/);
    expect(run.attempts).toEqual([]);
    await waitJobState(env, created.id, 'failed');
  });
  it('SQLITE_BUSY once in the worker (another process holds the write lock past busy_timeout): the run is retried after a backoff and succeeds', async () => {
    env = await createTestEnv();
    const created = await submit(env.app, sftRun(10, 5));
    // Another process takes the database's write lock. better-sqlite3 waits for a lock synchronously, so the test
    // process cannot time the release itself: the holder releases 7.5 s after the worker takes the job (a file
    // written in the 'active' event, before the processor runs). The worker's first write (queued -> running) waits
    // busy_timeout (5 s) and fails with SQLITE_BUSY; recording that error then waits ~2.5 s and gets the lock, so the
    // error happens exactly once.
    const signal = path.join(tmp, `busy-${created.id}`);
    const holder = execa(
      'python3',
      ['-c', HOLD_WRITE_LOCK, path.join(env.dataDir, 'mlxq.sqlite'), signal, '7.5'],
      { reject: false },
    );
    await waitFor(async () => fs.existsSync(`${signal}.locked`), {
      timeoutMs: 15_000,
      what: 'the write lock to be held',
    });
    const w = await env.startWorker();
    w.worker.once('active', () => fs.writeFileSync(signal, ''));
    try {
      await waitStatus(env.app, created.id, ['failed', 'succeeded', 'cancelled'], 45_000);
      const run = RunDetail.parse(
        (await env.app.inject({ method: 'GET', url: `/v1/runs/${created.id}` })).json(),
      );
      expect(run.status, run.error ?? '').toBe('succeeded');
      // The error used no attempt: one attempt, started after the backoff the event names.
      expect(run.attempts).toEqual([expect.objectContaining({ attempt: 1, outcome: 'succeeded' })]);
      const decision = run.events.find((e) => /worker error on .*SQLITE_BUSY/.test(e.reason ?? ''));
      expect(decision, JSON.stringify(run.events)).toBeDefined();
      expect(decision!.toStatus).toBe('queued');
      expect(decision!.reason).toMatch(/retrying in/);
      expect(decision!.delayMs).toBeGreaterThan(0);
      expect(run.attempts[0]!.startedAt).toBeGreaterThanOrEqual(decision!.at + decision!.delayMs!);
      expect(run.events.map((e) => e.toStatus)).toEqual(['queued', 'queued', 'running', 'succeeded']);
      expect((await holder).exitCode).toBe(0);
    } finally {
      holder.kill();
    }
  }, 60_000);
});
