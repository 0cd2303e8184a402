import fs from 'node:fs';
import path from 'node:path';

import { Worker } from 'bullmq';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { requestCancel } from '../../src/db/runs-repository.js';
import { jobIdOf } from '../../src/shared/job-kinds.js';
import { createRedis, RUNS_QUEUE, workerRedisOptions } from '../../src/shared/queue.js';
import { runQueuesOf } from '../../src/shared/run-queues.js';
import { createInProcessReporter } from '../../src/worker/in-process-reporter.js';
import { createTrainHandler } from '../../src/worker/process-run.js';
import { workerIdentity } from '../../src/worker/run-lease.js';
import {
  chaosIt,
  getRun,
  logText,
  metricIterations,
  pidRunning,
  sftRun,
  spawnWorker,
  submit,
  trainerPid,
  waitIteration,
  waitPidGone,
  waitStatus,
  type WorkerProcess,
} from '../helpers/chaos.js';
import { createTestEnv, redisUrl, standInEnv, type TestEnv, waitJobState } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

let env: TestEnv;
let workerProcess: WorkerProcess | undefined;
beforeEach(async () => {
  env = await createTestEnv();
});
afterEach(async () => {
  if (workerProcess) {
    workerProcess.child.kill('SIGKILL');
    await workerProcess.exited();
    workerProcess = undefined;
  }
  await env.cleanup();
});

const cancel = (id: string) => env.app.inject({ method: 'POST', url: `/v1/runs/${id}/cancel` });

describe('POST /v1/runs/:id/cancel', () => {
  chaosIt('cancels a queued run at once: its job leaves the queue and no worker ever starts it', async () => {
    const queued = await submit(env.app, sftRun(10));
    expect(await env.queue.getJob(jobIdOf('train', queued.id, 1))).toBeDefined();

    const res = await cancel(queued.id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: queued.id, status: 'cancelled', stopReason: 'cancelled' });
    expect(res.json().cancelRequestedAt).toEqual(expect.any(String));
    expect(await env.queue.getJob(jobIdOf('train', queued.id, 1))).toBeUndefined();

    // A worker started afterwards trains the next run and never touches the cancelled one.
    await env.startWorker();
    const next = await submit(env.app, sftRun(4, 2));
    expect((await waitStatus(env.app, next.id, ['succeeded', 'failed'])).status).toBe('succeeded');
    const run = await getRun(env.app, queued.id);
    expect(run.status).toBe('cancelled');
    expect(run.attempts).toEqual([]);
    expect(run.events.map((e) => e.toStatus)).toEqual(['queued', 'cancelled']);

    const again = await cancel(queued.id);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({
      error: 'conflict',
      message: expect.stringMatching(/already cancelled/),
    });
  });

  chaosIt(
    'cancels a queued run whose job a worker has just taken (locked): the worker never starts the trainer',
    async () => {
      const queued = await submit(env.app, sftRun(10));
      // A worker takes the job (BullMQ locks it) but has not run the processor yet.
      const connection = createRedis(redisUrl(), workerRedisOptions());
      const taker = new Worker(RUNS_QUEUE, null, { connection, prefix: env.config.queuePrefix });
      try {
        const token = 'test-taker:1';
        const job = await waitFor(() => taker.getNextJob(token, { block: false }), {
          what: 'the job to be taken',
        });
        expect(job.id).toBe(jobIdOf('train', queued.id, 1));
        expect(await job.isActive()).toBe(true);

        const res = await cancel(queued.id);
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json().status).toBe('cancelled');
        // The locked job could not be removed; the processor that holds it finds the run final and ends the job.
        const processRun = createTrainHandler({
          config: env.config,
          reporter: createInProcessReporter({
            db: env.db,
            config: env.config,
            logger: pino({ level: 'silent' }),
            resolveData: async (d) => d,
          }),
          logger: pino({ level: 'silent' }),
          preflight: { version: '3.1.2', error: null },
          resolveData: async (d) => d,
          active: new Map(),
          shutdown: new AbortController().signal,
          self: await workerIdentity('test-taker'),
          trainerEnv: standInEnv(),
          queue: env.queue,
          queues: runQueuesOf(env.queue, env.redis, env.prefix),
        });
        expect(await processRun({ runId: queued.id }, job, token)).toEqual({ status: 'cancelled' });
        await job.moveToCompleted({ status: 'cancelled' }, token, false);
        const run = await getRun(env.app, queued.id);
        expect(run.attempts).toEqual([]);
        expect(fs.existsSync(path.join(run.runDir, 'train.log'))).toBe(false);
      } finally {
        await taker.close();
        connection.disconnect();
      }
    },
  );

  chaosIt(
    'cancels a running run trained by a worker in another process: the trainer group stops, checkpoints and logs stay, no retry',
    async () => {
      workerProcess = spawnWorker({
        dataDir: env.dataDir,
        redisUrl: redisUrl(),
        prefix: env.config.queuePrefix,
        env: { MLX_STANDIN_STEP_SECONDS: '0.05' },
      });
      await workerProcess.ready();
      const created = await submit(env.app, sftRun(400, 5));
      await waitIteration(env.app, created.id, 10);
      const pid = await trainerPid(created.runDir);
      expect(await pidRunning(pid)).toBe(true);
      const before = await metricIterations(env.app, created.id);
      expect(before).toEqual(expect.arrayContaining([5, 10]));

      const res = await cancel(created.id);
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json()).toMatchObject({ status: 'running', cancelRequestedAt: expect.any(String) });

      const run = await waitStatus(env.app, created.id, ['cancelled', 'succeeded', 'failed'], 15_000);
      expect(run.status).toBe('cancelled');
      expect(run.stopReason).toBe('cancelled');
      await waitPidGone(pid);
      expect(run.attempts).toHaveLength(1);
      expect(run.attempts[0]).toMatchObject({ outcome: 'cancelled' });
      expect(run.progress.iteration).toBeLessThan(400);
      expect(run.checkpoints).toEqual(
        expect.arrayContaining(['0000005_adapters.safetensors', '0000010_adapters.safetensors']),
      );
      for (const c of run.checkpoints) expect(fs.existsSync(path.join(run.adapterPath, c))).toBe(true);
      expect(await metricIterations(env.app, created.id)).toEqual(expect.arrayContaining(before));
      const log = await logText(env.app, created.id);
      expect(log).toMatch(/Iter 5: loss /);
      expect(log).toMatch(/Iter 10: Saved adapter weights/);
      // Never retried: the job is done, not back in the queue.
      await waitJobState(env, created.id, 'completed');
      expect((await getRun(env.app, created.id)).attempts).toHaveLength(1);
      await cancel(created.id).then((r) => expect(r.statusCode).toBe(409));
    },
  );

  chaosIt(
    'stops a running run whose cancel signal was lost (flag in SQLite only): the worker polls the flag',
    async () => {
      await env.startWorker({ trainerEnv: { MLX_STANDIN_STEP_SECONDS: '0.05' } });
      const created = await submit(env.app, sftRun(400, 5));
      await waitIteration(env.app, created.id, 5);
      const pid = await trainerPid(created.runDir);
      expect(requestCancel(env.db, created.id)).toBe(true);
      const run = await waitStatus(env.app, created.id, ['cancelled', 'succeeded', 'failed'], 10_000);
      expect(run.status).toBe('cancelled');
      await waitPidGone(pid);
    },
  );

  it('answers 404 for an unknown run', async () => {
    const res = await cancel('run_nope');
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toBe('not_found');
  });
});
