import fs from 'node:fs';
import path from 'node:path';

import { describe, expect } from 'vitest';

import {
  chaosIt,
  getRun,
  logText,
  metricIterations,
  pidRunning,
  RESUMED_ONCE,
  sftRun,
  submit,
  trainerPid,
  waitPidGone,
  waitStatus,
} from '../helpers/chaos.js';
import { useWorkerProcessEnv } from '../helpers/chaos-env.js';
import { waitJobState } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

// Default lock (5 min) and stalled interval (30 s): recovery must not wait for either.
const { env, worker } = useWorkerProcessEnv();

describe('kill -9 of the worker mid-run', () => {
  chaosIt(
    'the next worker stops the trainer left behind, interrupts the run and resumes it from its newest checkpoint',
    async () => {
      // The first trainer stalls in iteration 13 (a long step with no output), after checkpoints 5 and 10.
      const first = worker({ MLX_STANDIN_HANG_AT_ITER: '13' });
      await first.ready();
      const created = await submit(env.app, sftRun(30, 5));
      const adapters = created.adapterPath;
      await waitFor(() => fs.existsSync(path.join(adapters, '0000010_adapters.safetensors')), {
        what: 'checkpoint 10',
      });
      const orphan = await trainerPid(created.runDir);
      await waitFor(async () => (await metricIterations(env.app, created.id)).includes(10), {
        what: 'the metrics of iteration 10',
      });
      const logBefore = await logText(env.app, created.id);
      expect(logBefore).toMatch(/Iter 10: Saved adapter weights/);

      first.child.kill('SIGKILL');
      expect((await first.exited()).signal).toBe('SIGKILL');
      // Detached in its own process group, the trainer outlives its worker; the run still says running.
      expect(await pidRunning(orphan)).toBe(true);
      expect((await getRun(env.app, created.id)).status).toBe('running');

      const second = worker({});
      await second.ready();
      await waitPidGone(orphan, 10_000);
      const run = await waitStatus(env.app, created.id, ['succeeded', 'failed', 'cancelled'], 30_000);
      expect(run.status, run.error ?? '').toBe('succeeded');

      expect(run.attempts).toHaveLength(2);
      expect(run.attempts[0]).toMatchObject({ attempt: 1, outcome: 'interrupted', error: 'worker lost' });
      expect(run.attempts[1]).toMatchObject({ attempt: 2, outcome: 'succeeded', startIteration: 10 });
      expect(run.attempts[1]!.resumedFrom).toMatch(/0000010_adapters\.safetensors$/);
      expect(run.events.map((e) => e.toStatus)).toEqual(RESUMED_ONCE);
      expect(run.events[2]!.reason).toMatch(/is gone/);

      // Nothing recorded before the crash is lost; the resumed attempt continues the numbering.
      expect(await metricIterations(env.app, created.id)).toEqual([5, 10, 15, 20, 25, 30]);
      expect(run.progress).toMatchObject({ iteration: 30, total: 30 });
      const log = await logText(env.app, created.id);
      expect(log.startsWith(logBefore.slice(0, 200))).toBe(true);
      expect(log).toMatch(/\[mlxq\] attempt 1 /);
      expect(log).toMatch(/\[mlxq\] attempt 2 .*--resume-adapter-file=\S*0000010_adapters\.safetensors/);
      expect(run.checkpoints).toEqual(
        [5, 10, 15, 20, 25, 30].map((i) => `${String(i).padStart(7, '0')}_adapters.safetensors`),
      );
      expect(fs.existsSync(path.join(adapters, 'adapters.safetensors'))).toBe(true);
      expect(fs.readdirSync(adapters).filter((n) => n.startsWith('attempt-'))).toEqual([]);
      expect(fs.existsSync(path.join(created.runDir, 'trainer.pid'))).toBe(false);
      await waitJobState(env, created.id, 'completed');
    },
  );

  chaosIt(
    'two crashes in a row: each resumed attempt continues from the newest checkpoint, numbered by the run’s iteration',
    async () => {
      const cp = (i: number) => `${String(i).padStart(7, '0')}_adapters.safetensors`;
      // Each killed attempt's trainer stalls after its checkpoint (the first in iteration 13, after 10; the second in
      // its own iteration 8, after its 5), so it is still running when the test kills its worker, however slow the
      // machine: a full-speed trainer once finished its attempt before the test read its pid file.
      const first = worker({ MLX_STANDIN_HANG_AT_ITER: '13' });
      await first.ready();
      const created = await submit(env.app, sftRun(40, 5));
      const adapters = created.adapterPath;
      await waitFor(async () => (await metricIterations(env.app, created.id)).includes(10), {
        what: 'the metrics of iteration 10',
      });
      const firstTrainer = await trainerPid(created.runDir);
      const logBefore = await logText(env.app, created.id);
      first.child.kill('SIGKILL');
      await first.exited();

      const second = worker({ MLX_STANDIN_HANG_AT_ITER: '8' });
      await second.ready();
      await waitPidGone(firstTrainer, 10_000);
      // The resumed trainer numbers from 1 again, in a folder of its own: its 0000005 is the run's iteration 15 or later.
      const start2 = await waitFor(
        async () => (await getRun(env.app, created.id)).attempts[1]?.startIteration,
        { what: 'attempt 2' },
      );
      await waitFor(() => fs.existsSync(path.join(adapters, 'attempt-2', cp(5))), {
        what: 'the first checkpoint of attempt 2',
      });
      // Its first checkpoint line is in SQLite (the sink flushes at each checkpoint), with that iteration's metrics.
      await waitFor(async () => (await metricIterations(env.app, created.id)).includes(start2 + 5), {
        what: 'the first metrics of attempt 2',
      });
      const metricsBefore = await metricIterations(env.app, created.id);
      const secondTrainer = await trainerPid(created.runDir);
      second.child.kill('SIGKILL');
      await second.exited();

      const third = worker({});
      await third.ready();
      await waitPidGone(secondTrainer, 10_000);
      const run = await waitStatus(env.app, created.id, ['succeeded', 'failed', 'cancelled'], 30_000);
      expect(run.status, run.error ?? '').toBe('succeeded');
      expect(run.attempts.map((a) => a.outcome)).toEqual(['interrupted', 'interrupted', 'succeeded']);
      const resumedAt = run.attempts.map((a) => a.startIteration);
      expect(resumedAt[0]).toBe(0);
      expect(resumedAt[1]).toBe(10);
      expect(resumedAt[2]).toBe(15);
      expect(run.attempts[2]!.resumedFrom).toMatch(new RegExp(`/adapters/${cp(resumedAt[2]!)}$`));
      expect(run.checkpoints).toEqual([5, 10, 15, 20, 25, 30, 35, 40].map(cp));
      expect(fs.readdirSync(adapters).filter((n) => n.startsWith('attempt-'))).toEqual([]);
      const metrics = await metricIterations(env.app, created.id);
      expect(metrics).toEqual(expect.arrayContaining(metricsBefore));
      // A trainer outlives its killed worker by a moment and may save one more checkpoint whose report nobody read;
      // the next attempt resumes after it. Only such resume points may lack their metrics.
      const all = [5, 10, 15, 20, 25, 30, 35, 40];
      expect(metrics).toEqual(expect.arrayContaining(all.filter((i) => !resumedAt.includes(i))));
      expect(metrics.every((i) => all.includes(i))).toBe(true);
      expect(run.progress).toMatchObject({ iteration: 40, total: 40 });
      expect((await logText(env.app, created.id)).startsWith(logBefore)).toBe(true);
    },
  );
});
