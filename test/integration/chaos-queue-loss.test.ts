import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect } from 'vitest';

import { chaosIt, type ChaosEnv, createChaosEnv, getRun, type OwnRedis, sftRun, startOwnRedis, submit, waitIteration, waitStatus } from '../helpers/chaos.js';
import { currentJobState } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

// FLUSHALL empties a whole Redis: this file runs on a redis-server of its own, never the shared one.
let redis: OwnRedis;
let env: ChaosEnv;
beforeEach(async () => {
  redis = await startOwnRedis();
  env = await createChaosEnv(redis.url);
});
afterEach(async () => {
  await env.cleanup();
  await redis.cleanup();
});

const flushAll = () => execa('redis-cli', ['-u', redis.url, 'FLUSHALL']);
const FINAL = ['succeeded', 'failed', 'cancelled'];

describe('Redis loses every job (FLUSHALL: a restart of a Redis without persistence)', () => {
  chaosIt(
    'with 1 run training and 3 waiting, the reconciler re-queues the 3 and all 4 succeed, in priority order',
    async () => {
      await env.startWorker({ trainerEnv: { MLX_STANDIN_STEP_SECONDS: '0.05' } });
      // Long enough (100 x 50 ms) that it still trains while the three are submitted, even on a busy machine.
      const training = await submit(env.app, sftRun(100, 5));
      await waitIteration(env.app, training.id, 5);
      const low = await submit(env.app, sftRun(4, 2, { priority: 0 }));
      const mid = await submit(env.app, sftRun(4, 2, { priority: 10 }));
      const high = await submit(env.app, sftRun(4, 2, { priority: 50 }));
      expect(await env.queue.getJobCounts('prioritized')).toEqual({ prioritized: 3 });

      await flushAll();
      expect(await env.queue.getJobCounts('prioritized', 'active')).toEqual({ prioritized: 0, active: 0 });
      // The control plane's reconciler, running from here on (its pass may not land between the flush and the check).
      env.startReconciler(300);
      const runs = await Promise.all([training, high, mid, low].map((r) => waitStatus(env.app, r.id, FINAL, 90_000)));
      for (const r of runs) expect(r.status, r.error ?? '').toBe('succeeded');
      // The training run was trained once, on; the waiting ones were re-queued and ran by priority.
      expect(runs[0]!.attempts).toHaveLength(1);
      const started = await Promise.all([high, mid, low].map(async (r) => Date.parse((await (await env.app.inject({ url: `/v1/runs/${r.id}` })).json()).startedAt)));
      expect(started).toEqual([...started].sort((a, b) => a - b));
      for (const r of runs.slice(1)) {
        expect(r.events.map((e) => e.reason)).toContain('re-queued: its job was missing from Redis');
        expect(r.attempts).toHaveLength(1);
      }
    },
    150_000,
  );

  chaosIt(
    'a sweep’s waiting members are re-queued and the sweep is done; cancel still works on a re-queued run',
    async () => {
      env.startReconciler(300);
      await env.startWorker({ trainerEnv: { MLX_STANDIN_STEP_SECONDS: '0.05' } });
      const blocker = await submit(env.app, sftRun(20, 5, { priority: 100 }));
      await waitIteration(env.app, blocker.id, 5);
      const res = await env.app.inject({ method: 'POST', url: '/v1/sweeps', payload: { base: sftRun(4, 2), grid: { learning_rate: [1e-5, 2e-5] }, metric: { name: 'loss', goal: 'min' } } });
      expect(res.statusCode, res.body).toBe(201);
      const sweepId = res.json().id as string;
      const doomed = await submit(env.app, sftRun(4, 2));

      await flushAll();
      // The reconciler puts the lost job back; cancelling then removes it and the run never starts.
      await waitFor(async () => (await currentJobState(env, doomed.id)) === 'prioritized', { what: 'the re-queued job' });
      const cancelled = await env.app.inject({ method: 'POST', url: `/v1/runs/${doomed.id}/cancel` });
      expect(cancelled.statusCode, cancelled.body).toBe(200);
      expect(cancelled.json().status).toBe('cancelled');
      expect(await currentJobState(env, doomed.id)).toBe('unknown');

      const sweep = await waitFor(
        async () => {
          const s = (await env.app.inject({ url: `/v1/sweeps/${sweepId}` })).json();
          return s.status === 'done' ? s : null;
        },
        { timeoutMs: 90_000, what: 'the sweep to be done' },
      );
      expect(sweep.counts).toMatchObject({ succeeded: 2, total: 2 });
      expect((await getRun(env.app, blocker.id)).status).toBe('succeeded');
      const doomedRun = await getRun(env.app, doomed.id);
      expect(doomedRun.attempts).toEqual([]);
      expect(doomedRun.events.map((e) => e.reason)).toEqual(['created', 're-queued: its job was missing from Redis', 'cancelled by request']);
    },
    150_000,
  );
});
