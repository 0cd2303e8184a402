// kill -9 of a worker in the middle of a follow-up job (a fuse writing its folder, silent, slowly): a new worker stops
// the tool left behind, runs the job again as a new attempt at once (not after BullMQ's 5-minute lock), and the
// job succeeds with its artifact recorded once and no stale output of the dead attempt.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect } from 'vitest';

import { chaosIt, pidRunning, spawnWorker, waitPidGone, type WorkerProcess } from '../helpers/chaos.js';
import { sftRequest, waitJobFinal, waitRunFinal } from '../helpers/follow-up.js';
import { createTestEnv, redisUrl, runQueue, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test JSON bodies

let env: TestEnv;
let tmp: string;
const workers: WorkerProcess[] = [];
/** Tools a failed repetition may leave running (detached, so killing the worker does not end them). */
const tools: number[] = [];

beforeEach(async () => {
  env = await createTestEnv();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-chaos-follow-up-'));
});
afterEach(async () => {
  for (const w of workers.splice(0)) {
    w.child.kill('SIGKILL');
    await w.exited();
  }
  for (const pid of tools.splice(0)) if (await pidRunning(pid)) process.kill(-pid, 'SIGKILL');
  await env.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function worker(extraEnv: Record<string, string>): WorkerProcess {
  // Default lock (5 min) and stalled interval (30 s): the job must be run again without waiting for either.
  const w = spawnWorker({
    dataDir: env.dataDir,
    redisUrl: redisUrl(),
    prefix: env.config.queuePrefix,
    env: extraEnv,
  });
  workers.push(w);
  return w;
}

/** Independent of src/: the python processes whose parent is this pid, from `ps`. */
async function pythonChildren(parent: number): Promise<string[]> {
  const r = await execa('ps', ['-eo', 'ppid=,pid=,command='], { reject: false });
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => Number(f[0]) === parent && f.slice(2).join(' ').includes('python'))
    .map((f) => f.slice(1).join(' '));
}

describe('kill -9 of the worker mid follow-up job', () => {
  chaosIt(
    'the next worker stops the tool left behind and runs the job again: it succeeds, its artifact recorded once',
    async () => {
      const pidFile = path.join(tmp, 'mlx_lm.pid');
      // The first worker's fuse creates its folder with a partial shard, then writes for 120 s without a word.
      const first = worker({ MLX_LM_STANDIN_SAVE_SECONDS: '120', MLX_LM_STANDIN_PID_FILE: pidFile });
      await first.ready();
      const created = await env.app.inject({ method: 'POST', url: '/v1/runs', payload: sftRequest() });
      expect(created.statusCode, created.body).toBe(201);
      const run = await waitRunFinal(env, created.json<Json>().id as string);
      expect(run.status, run.error).toBe('succeeded');

      const res = await env.app.inject({
        method: 'POST',
        url: `/v1/runs/${run.id}/jobs`,
        payload: { kind: 'fuse', verify: { prompts: ['Hello there'], max_tokens: 16 } },
      });
      expect(res.statusCode, res.body).toBe(201);
      const jobId = res.json<Json>().id as string;
      const fused = path.join(run.runDir as string, 'fused', jobId);
      const partial = path.join(fused, 'model-00001-of-00002.safetensors');
      await waitFor(() => fs.existsSync(partial), {
        timeoutMs: 30_000,
        what: 'the fuse to be writing its folder',
      });
      const orphan = Number(fs.readFileSync(pidFile, 'utf8'));
      tools.push(orphan);
      expect(await pidRunning(orphan)).toBe(true);
      const before = (await env.app.inject({ method: 'GET', url: `/v1/jobs/${jobId}` })).json<Json>();
      expect(before).toMatchObject({ status: 'running', attempt: 1 });

      first.child.kill('SIGKILL');
      expect((await first.exited()).signal).toBe('SIGKILL');
      // Detached in its own process group, the fuse outlives its worker, silent: nothing makes it stop on its own.
      expect(await pidRunning(orphan)).toBe(true);

      const second = worker({});
      await second.ready();
      await waitPidGone(orphan, 15_000);
      const job = await waitJobFinal(env, jobId, 60_000);
      expect(job.status, job.error).toBe('succeeded');
      expect(job.attempt).toBe(2);
      expect(job.result).toMatchObject({ verified: true, path: fused });

      // One job, one fused model artifact, and the folder holds the second attempt's output only.
      const jobs = (await env.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/jobs` })).json<Json>()
        .items as Json[];
      expect(jobs.map((j) => j.id)).toEqual([jobId]);
      const artifacts = (
        (await env.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/artifacts` })).json<Json>()
          .items as Json[]
      ).filter((a) => a.jobId === jobId);
      expect(artifacts.map((a) => [a.kind, a.path, a.verified])).toEqual([['fused_model', fused, true]]);
      expect(fs.readdirSync(fused)).not.toContain('model-00001-of-00002.safetensors');
      expect(fs.existsSync(path.join(fused, 'model.safetensors'))).toBe(true);

      // No tool left running: the orphan is gone, the new worker has no python child, and no pid file is left.
      expect(await pidRunning(orphan)).toBe(false);
      await waitFor(async () => (await pythonChildren(second.pid)).length === 0, {
        timeoutMs: 10_000,
        what: 'no python child of the worker',
      });
      expect(fs.existsSync(path.join(run.runDir as string, 'jobs', jobId, 'tool.pid'))).toBe(false);
      expect(second.output()).toContain('follow-up job queued again: its worker is gone');
      expect(second.output()).toContain('stopping a follow-up tool left behind by a worker that is gone');
      // The run queued again is a new BullMQ job of its own, completed; the dead worker's is still locked.
      expect(await runQueue(env, run.id as string).getJobState(`fuse:${jobId}:2`)).toBe('completed');
    },
    180_000,
  );
});

describe('a worker shut down (requeue) mid follow-up job', () => {
  chaosIt(
    'puts the job back as its next attempt, which the next worker runs to success',
    async () => {
      // 5 s a token: the samples job is still generating when the worker closes, however loaded the machine (at 0.3 s
      // a token it once ended before the close). The next worker runs it at full speed.
      const first = await env.startWorker({ trainerEnv: { MLX_LM_STANDIN_TOKEN_SECONDS: '5' } });
      const created = await env.app.inject({ method: 'POST', url: '/v1/runs', payload: sftRequest() });
      const run = await waitRunFinal(env, created.json<Json>().id as string);
      expect(run.status, run.error).toBe('succeeded');
      const res = await env.app.inject({
        method: 'POST',
        url: `/v1/runs/${run.id}/jobs`,
        payload: { kind: 'samples', prompts: ['Hello there'], max_tokens: 64 },
      });
      const jobId = res.json<Json>().id as string;
      await waitFor(
        async () => (await env.app.inject({ url: `/v1/jobs/${jobId}` })).json<Json>().status === 'running',
        { what: 'the samples job to run' },
      );
      await first.close('requeue');
      expect((await env.app.inject({ url: `/v1/jobs/${jobId}` })).json<Json>()).toMatchObject({
        status: 'queued',
        attempt: 1,
      });
      // Follow-up jobs wait in their run's queue (its placement).
      const queue = runQueue(env, run.id as string);
      expect(await queue.getJobState(`samples:${jobId}:1`)).toBe('completed');
      expect(['delayed', 'prioritized', 'waiting']).toContain(await queue.getJobState(`samples:${jobId}:2`));

      await env.startWorker({});
      const job = await waitJobFinal(env, jobId, 60_000);
      expect(job.status, job.error).toBe('succeeded');
      expect(job.attempt).toBe(2);
      const artifacts = (
        (await env.app.inject({ url: `/v1/runs/${run.id}/artifacts` })).json<Json>().items as Json[]
      ).filter((a) => a.jobId === jobId);
      expect(artifacts.map((a) => a.kind)).toEqual(['samples']);
    },
    120_000,
  );
});
