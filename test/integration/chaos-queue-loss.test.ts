import { execa } from 'execa';
import { describe, expect } from 'vitest';

import { chaosIt, getRun, sftRun, submit, waitIteration, waitStatus } from '../helpers/chaos.js';
import { useOwnRedisEnv } from '../helpers/chaos-env.js';
import { trainedRun, waitJobFinal } from '../helpers/follow-up.js';
import { currentJobState, runQueue } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

// FLUSHALL empties a whole Redis: this file runs on a redis-server of its own, never the shared one.
const { env, redis } = useOwnRedisEnv();

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
      const runs = await Promise.all(
        [training, high, mid, low].map((r) => waitStatus(env.app, r.id, FINAL, 90_000)),
      );
      for (const r of runs) expect(r.status, r.error ?? '').toBe('succeeded');
      // The training run was trained once, on; the waiting ones were re-queued and ran by priority.
      expect(runs[0]!.attempts).toHaveLength(1);
      const started = await Promise.all(
        [high, mid, low].map(async (r) =>
          Date.parse((await (await env.app.inject({ url: `/v1/runs/${r.id}` })).json()).startedAt),
        ),
      );
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
      const res = await env.app.inject({
        method: 'POST',
        url: '/v1/sweeps',
        payload: {
          base: sftRun(4, 2),
          grid: { learning_rate: [1e-5, 2e-5] },
          metric: { name: 'loss', goal: 'min' },
        },
      });
      expect(res.statusCode, res.body).toBe(201);
      const sweepId = res.json().id as string;
      const doomed = await submit(env.app, sftRun(4, 2));

      await flushAll();
      // The reconciler puts the lost job back; cancelling then removes it and the run never starts.
      await waitFor(async () => (await currentJobState(env, doomed.id)) === 'prioritized', {
        what: 'the re-queued job',
      });
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
      expect(doomedRun.events.map((e) => e.reason)).toEqual([
        'created',
        're-queued: its job was missing from Redis',
        'cancelled by request',
      ]);
    },
    150_000,
  );

  chaosIt(
    'a queued follow-up job whose BullMQ job vanished is re-added by the reconciler and succeeds',
    async () => {
      // Each generated token takes 0.3 s: the samples job runs for seconds while the evaluate waits behind it.
      await env.startWorker({ trainerEnv: { MLX_LM_STANDIN_TOKEN_SECONDS: '0.3' } });
      const run = await trainedRun(env);
      const post = async (body: Record<string, unknown>) => {
        const res = await env.app.inject({ method: 'POST', url: `/v1/runs/${run.id}/jobs`, payload: body });
        expect(res.statusCode, res.body).toBe(201);
        return res.json<{ id: string }>().id;
      };
      const blocker = await post({
        kind: 'samples',
        prompts: ['Hello there', 'Do you deliver?', 'Can I freeze bread?'],
        max_tokens: 64,
      });
      await waitFor(
        async () => (await env.app.inject({ url: `/v1/jobs/${blocker}` })).json().status === 'running',
        { what: 'the samples job to run' },
      );
      const waiting = await post({ kind: 'evaluate' });
      // Follow-up jobs wait in their run's queue (its placement).
      const queue = runQueue(env, run.id);
      await waitFor(async () => (await queue.getJobState(`evaluate:${waiting}:1`)) === 'prioritized', {
        what: 'the evaluate job in Redis',
      });
      // The worker's outbox (every second) must have seen the row before Redis loses it, else the outbox, not the
      // reconciler, re-adds it: wait for a whole generation of the blocker (>= 1.8 s) after the POST.
      const generations = async () =>
        ((await env.app.inject({ url: `/v1/jobs/${blocker}` })).json().logTail as string[]).filter((l) =>
          l.startsWith('Generation:'),
        ).length;
      const before = await generations();
      await waitFor(async () => (await generations()) >= before + 2, {
        timeoutMs: 60_000,
        what: 'a whole generation of the samples job',
      });

      await flushAll();
      expect(await queue.getJobState(`evaluate:${waiting}:1`)).toBe('unknown');
      expect((await env.app.inject({ url: `/v1/jobs/${waiting}` })).json().status).toBe('queued');
      // The control plane's reconciler, from here on: started earlier, its pass could land between the flush and the
      // check above on a busy machine (seen once in 20 repetitions).
      env.startReconciler(300);
      const evaluated = await waitJobFinal(env, waiting, 90_000);
      expect(evaluated.status, evaluated.error).toBe('succeeded');
      expect(evaluated.attempt).toBe(1);
      expect(evaluated.result.test_loss).toBeGreaterThan(0);
      const reasons = (await getRun(env.app, run.id as string)).events.map((e) => e.reason);
      expect(reasons).toContain(
        `follow-up job ${waiting} (evaluate) re-queued: its job was missing from Redis`,
      );
      // The job that was running when Redis lost it ran to its end on the worker; it is not run twice.
      const sampled = await waitJobFinal(env, blocker, 90_000);
      expect(sampled).toMatchObject({ status: 'succeeded', attempt: 1 });
    },
    150_000,
  );
});
