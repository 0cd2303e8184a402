import path from 'node:path';

import { afterEach, beforeEach, describe, expect } from 'vitest';

import {
  chaosIt,
  logText,
  metricIterations,
  MODEL,
  submit,
  trainerPid,
  waitPidGone,
  waitStatus,
} from '../helpers/chaos.js';
import { createTestEnv, TEST_DATA, type TestEnv, waitJobState } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

let env: TestEnv;
beforeEach(async () => {
  // Watchdog failures are permanent: even with retries allowed there is one attempt.
  env = await createTestEnv({ TRAINER_FAILURE_ATTEMPTS: '3' });
});
afterEach(async () => {
  await env.cleanup();
});

const dpo = {
  method: 'dpo',
  model: MODEL,
  data: path.join(TEST_DATA, 'dpo'),
  iters: 200,
  batch_size: 2,
  steps_per_report: 5,
  save_every: 5,
};

describe('watchdogs', () => {
  chaosIt(
    'a trainer that hangs (prints nothing) past RUN_IDLE_LIMIT_S is stopped and the run fails with the reason',
    async () => {
      // Upstream's DPO batch iterator spins forever on a split smaller than batch_size; the stand-in's hang knob
      // reproduces the silence (the service already refuses such datasets at submit).
      // 4 s: longer than Python's start-up on a busy machine (silent too), far shorter than the hang.
      await env.startWorker({
        config: { runIdleLimitMs: 4000 },
        trainerEnv: { MLX_STANDIN_STEP_SECONDS: '0.02', MLX_STANDIN_HANG_AT_ITER: '8' },
      });
      const created = await submit(env.app, dpo);
      await waitFor(async () => (await metricIterations(env.app, created.id)).includes(5), {
        timeoutMs: 30_000,
        what: 'the metrics of iteration 5',
      });
      const pid = await trainerPid(created.runDir);

      const run = await waitStatus(env.app, created.id, ['failed', 'succeeded', 'cancelled'], 30_000);
      expect(run.status).toBe('failed');
      expect(run.stopReason).toBe('idle_limit');
      expect(run.error).toMatch(/printed nothing for too long \(RUN_IDLE_LIMIT_S\)/);
      await waitPidGone(pid, 5_000);
      expect(run.attempts).toEqual([expect.objectContaining({ outcome: 'failed' })]);
      expect(await metricIterations(env.app, created.id)).toEqual([5]);
      expect(await logText(env.app, created.id)).toMatch(/Iter 5: Saved adapter weights/);
      expect(run.checkpoints).toEqual(['0000005_adapters.safetensors']);
      await waitJobState(env, created.id, 'failed');
    },
  );

  chaosIt('a run past RUN_TIME_LIMIT_S is stopped and fails with the reason', async () => {
    // 5 s: time for Python's start-up on a busy machine and some iterations, far less than 200 x 50 ms.
    await env.startWorker({
      config: { runTimeLimitMs: 5000 },
      trainerEnv: { MLX_STANDIN_STEP_SECONDS: '0.05' },
    });
    const created = await submit(env.app, dpo);
    const pid = await trainerPid(created.runDir);
    const run = await waitStatus(env.app, created.id, ['failed', 'succeeded', 'cancelled'], 30_000);
    expect(run.status).toBe('failed');
    expect(run.stopReason).toBe('time_limit');
    expect(run.error).toMatch(/exceeded its time limit \(RUN_TIME_LIMIT_S\)/);
    expect(run.progress.iteration).toBeGreaterThan(0);
    expect(run.progress.iteration).toBeLessThan(200);
    await waitPidGone(pid, 5_000);
    expect(run.attempts).toHaveLength(1);
  });
});
