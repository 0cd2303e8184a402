import { describe, expect } from 'vitest';

import {
  chaosIt,
  getRun,
  logText,
  metricIterations,
  sftRun,
  submit,
  trainerPid,
  waitPidGone,
  waitStatus,
  type WorkerProcess,
} from '../helpers/chaos.js';
import { useWorkerProcessEnv } from '../helpers/chaos-env.js';
import { currentJobState } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

const { env, worker: spawn } = useWorkerProcessEnv();

async function worker(extraEnv: Record<string, string>): Promise<WorkerProcess> {
  const w = spawn(extraEnv);
  await w.ready();
  return w;
}

/** SIGTERM, then the worker's exit: code 0 within the bound. */
async function terminate(w: WorkerProcess, timeoutMs = 20_000): Promise<void> {
  w.child.kill('SIGTERM');
  const exited = await Promise.race([
    w.exited(),
    new Promise<null>((r) => setTimeout(() => r(null), timeoutMs).unref()),
  ]);
  expect(exited, `the worker did not exit within ${timeoutMs} ms:\n${w.output()}`).not.toBeNull();
  expect(exited!.exitCode, w.output()).toBe(0);
}

const everyFifth = (n: number) => Array.from({ length: n / 5 }, (_, i) => (i + 1) * 5);

describe('SIGTERM to the worker process', () => {
  chaosIt(
    'SHUTDOWN_MODE=requeue stops the trainer, puts the run back in the queue, and the next worker resumes it',
    async () => {
      const first = await worker({ SHUTDOWN_MODE: 'requeue' });
      const created = await submit(env.app, sftRun(60, 5));
      await waitFor(async () => (await metricIterations(env.app, created.id)).includes(10), {
        what: 'the metrics of iteration 10',
      });
      const pid = await trainerPid(created.runDir);
      const metricsBefore = await metricIterations(env.app, created.id);
      const logBefore = await logText(env.app, created.id);

      await terminate(first);
      await waitPidGone(pid, 5_000);
      const stopped = await getRun(env.app, created.id);
      expect(stopped.status).toBe('interrupted');
      expect(stopped.stopReason).toBe('shutdown');
      expect(stopped.attempts).toEqual([expect.objectContaining({ attempt: 1, outcome: 'interrupted' })]);
      expect(['delayed', 'waiting', 'prioritized']).toContain(await currentJobState(env, created.id));

      await worker({});
      const run = await waitStatus(env.app, created.id, ['succeeded', 'failed', 'cancelled']);
      expect(run.status, run.error ?? '').toBe('succeeded');
      expect(run.attempts.map((a) => a.outcome)).toEqual(['interrupted', 'succeeded']);
      expect(run.attempts[1]!.startIteration).toBeGreaterThanOrEqual(10);
      expect(run.attempts[1]!.resumedFrom).toMatch(/_adapters\.safetensors$/);
      const metrics = await metricIterations(env.app, created.id);
      expect(metrics).toEqual(expect.arrayContaining(metricsBefore));
      // A graceful stop reads the trainer's output to the end: no report is lost.
      expect([...new Set(metrics)].sort((a, b) => a - b)).toEqual(everyFifth(60));
      expect((await logText(env.app, created.id)).startsWith(logBefore)).toBe(true);
    },
  );

  chaosIt('SHUTDOWN_MODE=wait takes no new job, lets the training finish, then exits', async () => {
    const only = await worker({ SHUTDOWN_MODE: 'wait', SHUTDOWN_DEADLINE_S: '60' });
    const training = await submit(env.app, sftRun(40, 5));
    const waiting = await submit(env.app, sftRun(10, 5));
    await waitFor(async () => (await metricIterations(env.app, training.id)).includes(5), {
      what: 'the first metrics',
    });
    const pid = await trainerPid(training.runDir);

    await terminate(only, 30_000);
    await waitPidGone(pid, 1_000);
    const run = await getRun(env.app, training.id);
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect(run.attempts).toHaveLength(1);
    expect([...new Set(await metricIterations(env.app, training.id))]).toEqual(everyFifth(40));
    const next = await getRun(env.app, waiting.id);
    expect(next.status).toBe('queued');
    expect(next.attempts).toEqual([]);
  });

  chaosIt('SHUTDOWN_MODE=wait past SHUTDOWN_DEADLINE_S stops the training and re-queues it', async () => {
    const only = await worker({ SHUTDOWN_MODE: 'wait', SHUTDOWN_DEADLINE_S: '1' });
    const created = await submit(env.app, sftRun(2000, 5));
    await waitFor(async () => (await metricIterations(env.app, created.id)).includes(5), {
      what: 'the first metrics',
    });
    const pid = await trainerPid(created.runDir);
    const started = Date.now();

    await terminate(only);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    await waitPidGone(pid, 5_000);
    const run = await getRun(env.app, created.id);
    expect(run.status).toBe('interrupted');
    expect(run.stopReason).toBe('shutdown');
    expect(run.progress.iteration).toBeLessThan(2000);
    expect(['delayed', 'waiting', 'prioritized']).toContain(await currentJobState(env, created.id));
  });
});
