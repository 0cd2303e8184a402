import { describe, expect } from 'vitest';

import { parseJobId } from '../../src/shared/job-kinds.js';
import {
  chaosIt,
  getRun,
  logText,
  metricIterations,
  sftRun,
  submit,
  trainerPid,
  waitIteration,
  waitPidGone,
  waitStatus,
} from '../helpers/chaos.js';
import { useOwnRedisEnv } from '../helpers/chaos-env.js';
import { waitJobState } from '../helpers/test-env.js';

// This file stops Redis, so it runs on a redis-server of its own, never the shared one.
const { env, redis } = useOwnRedisEnv();

const everyFifth = (n: number) => Array.from({ length: n / 5 }, (_, i) => (i + 1) * 5);

describe('Redis stopped and started while a run trains', () => {
  chaosIt(
    'training goes on, the API answers 503 to submissions and keeps serving reads, and the run is trained once although its lock lapsed',
    async () => {
      // A lock far shorter than the outage: when Redis is back the lock is gone and BullMQ hands the job to the idle
      // second worker. The run lease must keep that worker from training it while the first one still does.
      const lock = { lockDuration: 1000, stalledInterval: 300 };
      const trainerEnv = { MLX_STANDIN_STEP_SECONDS: '0.05' };
      const workers = [
        await env.startWorker({ trainerEnv, lock }),
        await env.startWorker({ trainerEnv, lock }),
      ];
      const taken: string[][] = workers.map(() => []);
      workers.forEach((w, i) => w.worker.on('active', (job) => taken[i]!.push(job.id!)));

      const created = await submit(env.app, sftRun(120, 5));
      await waitIteration(env.app, created.id, 10);
      const pid = await trainerPid(created.runDir);
      const metricsBefore = await metricIterations(env.app, created.id);
      const logBefore = await logText(env.app, created.id);

      await redis.stop();
      const refused = await env.app.inject({ method: 'POST', url: '/v1/runs', payload: sftRun(5) });
      expect(refused.statusCode, refused.body).toBe(503);
      // Reads come from SQLite; the refused submission left no run behind.
      const list = await env.app.inject({ method: 'GET', url: '/v1/runs' });
      expect(list.statusCode).toBe(200);
      expect(list.json().items.map((r: { id: string }) => r.id)).toEqual([created.id]);
      expect((await getRun(env.app, created.id)).status).toBe('running');
      // The training goes on without Redis, for longer than the lock lasts.
      const downAt = Date.now();
      const during = await waitIteration(
        env.app,
        created.id,
        (await getRun(env.app, created.id)).progress.iteration! + 30,
      );
      expect(Date.now() - downAt).toBeGreaterThan(lock.lockDuration);
      expect(during.status).toBe('running');

      await redis.start();
      const run = await waitStatus(env.app, created.id, ['succeeded', 'failed', 'cancelled'], 30_000);
      expect(run.status, run.error ?? '').toBe('succeeded');
      // Trained once, by one worker: one attempt, no interruption.
      expect(run.attempts).toHaveLength(1);
      expect(run.events.map((e) => e.toStatus)).toEqual(['queued', 'running', 'succeeded']);
      expect((await logText(env.app, created.id)).match(/\[mlxq\] attempt/g)).toHaveLength(1);
      await waitPidGone(pid, 5_000);
      const metrics = await metricIterations(env.app, created.id);
      expect(metrics).toEqual(expect.arrayContaining(metricsBefore));
      expect(metrics).toEqual(everyFifth(120));
      expect((await logText(env.app, created.id)).startsWith(logBefore)).toBe(true);
      // The job reaches its end in Redis too, and the lapsed lock did hand it to the other worker meanwhile.
      await waitJobState(env, created.id, 'completed', 15_000);
      expect(
        taken.flat().filter((id) => parseJobId(id)?.subject === created.id).length,
      ).toBeGreaterThanOrEqual(2);

      // After the reconnect the workers still take new jobs.
      const next = await submit(env.app, sftRun(5, 5));
      expect((await waitStatus(env.app, next.id, ['succeeded', 'failed', 'cancelled'])).status).toBe(
        'succeeded',
      );
    },
    90_000,
  );
});
