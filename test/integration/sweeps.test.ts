import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { buildApp } from '../../src/api/app.js';
import { createDatasetValidator } from '../../src/datasets/validate-dataset.js';
import { argValue } from '../../src/domain/build-command.js';
import { createDataResolver } from '../../src/inputs/resolve-data.js';
import { apiRedisOptions, createRedis, createRunsQueue } from '../../src/shared/queue.js';
import { MODEL as model, redisUrl, TEST_DATA } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';
import { waitFor } from '../helpers/wait-for.js';

const env = useTestEnv();
const grpoBase = {
  method: 'grpo',
  model,
  data: path.join(TEST_DATA, 'grpo'),
  iters: 10,
  batch_size: 2,
  steps_per_report: 5,
  steps_per_eval: 5,
};
const grid3x3 = { group_size: [2, 4, 8], temperature: [0.7, 0.9, 1.1] };
const valLoss = { name: 'loss', goal: 'min' };

interface Row {
  index: number;
  runId: string;
  status: string;
  values: Record<string, unknown>;
  valLoss: { final: { value: number } | null };
  objective: { final: { value: number; iteration: number } | null };
  meanReward: { final: { value: number } | null } | null;
}

async function postSweep(body: unknown) {
  return env.app.inject({ method: 'POST', url: '/v1/sweeps', payload: body as object });
}

async function getSweep(id: string) {
  return (await env.app.inject({ method: 'GET', url: `/v1/sweeps/${id}` })).json();
}

async function getRun(id: string) {
  return (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}` })).json();
}

async function waitSweep(
  id: string,
  done: (s: { counts: Record<string, number> }) => boolean,
  timeoutMs = 60_000,
) {
  return waitFor(
    async () => {
      const s = await getSweep(id);
      return done(s) ? s : null;
    },
    { timeoutMs, intervalMs: 100, what: `sweep ${id}` },
  );
}

const allFinal = (s: { counts: Record<string, number> }) =>
  (s.counts.queued ?? 0) + (s.counts.running ?? 0) + (s.counts.interrupted ?? 0) === 0;

/** Jobs of any state in the test's queue: none may be left behind a sweep that was refused or cancelled. */
async function pendingJobs() {
  const c = await env.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'waiting-children');
  return Object.values(c).reduce((a, b) => a + b, 0);
}

describe('a grid sweep', () => {
  it('runs group_size x temperature one run at a time, each with its own values, and names the best run by val loss', async () => {
    const res = await postSweep({ name: 'grpo-grid', base: grpoBase, grid: grid3x3, metric: valLoss });
    expect(res.statusCode, res.body).toBe(201);
    const created = res.json();
    expect(created.runCount).toBe(9);
    expect(created.counts).toMatchObject({ queued: 9, total: 9 });
    expect(created.metric).toEqual({ name: 'loss', split: 'val', goal: 'min' });
    expect(created.runs.map((r: Row) => r.values)).toEqual(
      [2, 4, 8].flatMap((g) => [0.7, 0.9, 1.1].map((t) => ({ group_size: g, temperature: t }))),
    );
    expect(await env.queue.getJobCounts('prioritized', 'waiting')).toSatisfy(
      (c: Record<string, number>) => c.prioritized! + c.waiting! === 9,
    );

    await env.startWorker();
    const sweep = await waitSweep(created.id, allFinal);
    expect(sweep.counts).toMatchObject({ succeeded: 9, total: 9 });
    expect(sweep.status).toBe('done');

    const runs = await Promise.all(sweep.runs.map((r: Row) => getRun(r.runId)));
    for (const [i, run] of runs.entries()) {
      const { group_size, temperature } = sweep.runs[i].values;
      expect(run.sweepId).toBe(created.id);
      expect(run.sweepIndex).toBe(i);
      expect(Number(argValue(run.argv, '--group-size'))).toBe(group_size);
      expect(Number(argValue(run.argv, '--temperature'))).toBe(temperature);
      // What the trainer was really started with, as the worker logged it.
      const log = (await env.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/logs` })).body;
      expect(log).toMatch(new RegExp(`--group-size=${group_size} `));
      expect(log).toMatch(new RegExp(`--temperature=${temperature}( |$)`, 'm'));
    }
    // One at a time, in sweep order.
    for (let i = 1; i < runs.length; i++) {
      expect(Date.parse(runs[i].startedAt)).toBeGreaterThanOrEqual(Date.parse(runs[i - 1].finishedAt));
    }

    // The best run is the one with the lowest final val loss actually recorded.
    const finals = await Promise.all(
      sweep.runs.map(async (r: Row) => {
        const m = (
          await env.app.inject({ method: 'GET', url: `/v1/runs/${r.runId}/metrics?name=loss&split=val` })
        ).json();
        const last = m.points.reduce((a: { iteration: number }, b: { iteration: number }) =>
          b.iteration > a.iteration ? b : a,
        );
        return { runId: r.runId, value: last.value as number, iteration: last.iteration as number };
      }),
    );
    expect(finals.every((f) => f.iteration === 10)).toBe(true);
    const min = Math.min(...finals.map((f) => f.value));
    expect(new Set(finals.map((f) => f.value)).size).toBeGreaterThan(1);
    expect(sweep.best.value).toBe(min);
    expect(finals.find((f) => f.runId === sweep.best.runId)!.value).toBe(min);
    expect(sweep.best.runId).toBe(finals.find((f) => f.value === min)!.runId);
    expect(sweep.best).toMatchObject({ provisional: false, status: 'succeeded' });
    expect(sweep.best.values).toEqual(sweep.runs[sweep.best.index].values);
    for (const [i, r] of sweep.runs.entries()) {
      expect(r.valLoss.final.value).toBe(finals[i]!.value);
      expect(r.objective.final.value).toBe(finals[i]!.value);
      expect(typeof r.meanReward.final.value).toBe('number');
      expect(typeof r.trainLoss.final.value).toBe('number');
    }

    const csv = await env.app.inject({ method: 'GET', url: `/v1/sweeps/${created.id}?format=csv` });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const lines = csv.body.trimEnd().split('\r\n');
    expect(lines).toHaveLength(10);
    const head = lines[0]!.split(',');
    expect(head.slice(0, 5)).toEqual(['index', 'run_id', 'status', 'group_size', 'temperature']);
    expect(head).toContain('val_loss_final');
    expect(head).toContain('mean_reward_final');
    const bestLine = lines.slice(1).find((l) => l.endsWith(',true'))!;
    expect(bestLine.split(',')[1]).toBe(sweep.best.runId);
    expect(Number(bestLine.split(',')[head.indexOf('val_loss_final')])).toBe(min);

    const list = (await env.app.inject({ method: 'GET', url: '/v1/sweeps' })).json();
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({
      id: created.id,
      name: 'grpo-grid',
      status: 'done',
      counts: { succeeded: 9 },
    });
    expect(list.items[0].best.runId).toBe(sweep.best.runId);
    const members = (
      await env.app.inject({ method: 'GET', url: `/v1/runs?sweep=${created.id}&limit=100` })
    ).json();
    expect(members.items).toHaveLength(9);
  });

  it('keeps going past a failed run and picks the best by mean reward', async () => {
    const broken = path.join(env.dataDir, 'broken-model');
    fs.mkdirSync(broken);
    fs.writeFileSync(path.join(broken, 'config.json'), '{ not json');
    const res = await postSweep({
      base: { ...grpoBase, iters: 5 },
      grid: { model: [broken, model], temperature: [0.7, 1.1] },
      metric: { name: 'total_rewards_mean', goal: 'max' },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().metric).toEqual({ name: 'total_rewards_mean', split: 'train', goal: 'max' });
    await env.startWorker();
    const sweep = await waitSweep(res.json().id, allFinal);
    expect(sweep.runs.map((r: Row) => r.status)).toEqual(['failed', 'failed', 'succeeded', 'succeeded']);
    const rewards = sweep.runs.slice(2).map((r: Row) => r.objective.final!.value);
    expect(sweep.best.value).toBe(Math.max(...rewards));
    expect(sweep.best.index).toBe(rewards[0]! >= rewards[1]! ? 2 : 3);
  });
});

describe('a sweep that cannot run entirely', () => {
  async function expectNothingCreated() {
    expect((await env.app.inject({ method: 'GET', url: '/v1/runs' })).json().items).toEqual([]);
    expect((await env.app.inject({ method: 'GET', url: '/v1/sweeps' })).json().items).toEqual([]);
    expect(await pendingJobs()).toBe(0);
    expect(
      fs.existsSync(path.join(env.dataDir, 'runs')) ? fs.readdirSync(path.join(env.dataDir, 'runs')) : [],
    ).toEqual([]);
  }

  it('creates nothing when one grid value is invalid, and names it', async () => {
    const res = await postSweep({
      base: grpoBase,
      grid: { group_size: [1, 4, 8], temperature: [0.7, 0.9, 1.1] },
      metric: valLoss,
    });
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json();
    expect(body.error).toBe('invalid_request');
    expect(body.message).toMatch(/^3 of 9 combinations are invalid; nothing was created/);
    expect(body.issues).toHaveLength(1);
    expect(body.issues[0].path).toBe('grid.group_size');
    expect(body.issues[0].message).toMatch(/>=2/);
    expect(body.issues[0].message).toMatch(
      /in 3 of 9 combinations, first #0 \(group_size=1, temperature=0\.7\)/,
    );
    await expectNothingCreated();
  });

  it('names a broken base field once and unknown parameters by name', async () => {
    const badBase = await postSweep({
      base: { ...grpoBase, iters: undefined },
      grid: grid3x3,
      metric: valLoss,
    });
    expect(badBase.statusCode).toBe(400);
    expect(badBase.json().issues).toEqual([
      {
        path: 'base.iters',
        message: expect.stringMatching(/exactly one of iters or epochs .* in 9 of 9 combinations, first #0/),
      },
    ]);
    const unknown = await postSweep({
      base: grpoBase,
      grid: { group_size: [2], temprature: [0.7] },
      metric: valLoss,
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().issues).toEqual([
      { path: 'grid.temprature', message: expect.stringMatching(/not a run-request key/) },
    ]);
    const wrongMethod = await postSweep({
      base: { ...grpoBase, method: 'sft', data: path.join(TEST_DATA, 'sft-chat') },
      grid: { group_size: [2, 4] },
      metric: valLoss,
    });
    expect(wrongMethod.statusCode).toBe(400);
    expect(wrongMethod.json().issues[0]).toMatchObject({
      path: 'grid.group_size',
      message: expect.stringMatching(/does not apply to method sft/),
    });
    await expectNothingCreated();
  });

  it('answers 422 naming the combination when a varied dataset is bad', async () => {
    const res = await postSweep({
      base: grpoBase,
      grid: { data: [path.join(TEST_DATA, 'grpo'), path.join(TEST_DATA, 'bad', 'invalid-lines')] },
      metric: valLoss,
    });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().problems[0].message).toMatch(/\(combination #1: data=.*invalid-lines\)$/);
    await expectNothingCreated();
  });

  it('refuses more runs than max_runs', async () => {
    const res = await postSweep({ base: grpoBase, grid: grid3x3, metric: valLoss, max_runs: 8 });
    expect(res.statusCode).toBe(400);
    expect(res.json().issues).toEqual([
      { path: 'max_runs', message: 'the sweep expands to 9 runs; the cap is 8 (max_runs)' },
    ]);
    await expectNothingCreated();
  });

  it('answers 503 and takes back its runs when the jobs cannot be enqueued', async () => {
    const deadRedis = createRedis(redisUrl(), apiRedisOptions());
    const deadQueue = createRunsQueue(deadRedis, env.config.queuePrefix);
    await deadQueue.waitUntilReady();
    deadRedis.disconnect();
    const app = await buildApp({
      config: env.config,
      db: env.db,
      queue: deadQueue,
      redis: deadRedis,
      logger: false,
      inputs: { validator: createDatasetValidator(), resolveData: createDataResolver(env.dataDir) },
    });
    try {
      const res = await app.inject({
        method: 'POST',
        url: '/v1/sweeps',
        payload: { base: grpoBase, grid: grid3x3, metric: valLoss },
      });
      // The error handler hides the message of every 5xx; the status says Redis.
      expect(res.statusCode, res.body).toBe(503);
      await expectNothingCreated();
    } finally {
      await app.close();
      await deadQueue.close().catch(() => undefined);
    }
  });
});

describe('cancelling a sweep', () => {
  it('leaves no member queued or running', async () => {
    const res = await postSweep({
      base: grpoBase,
      grid: { group_size: [2, 4], temperature: [0.7, 0.9] },
      metric: valLoss,
    });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().id;
    await env.startWorker({ trainerEnv: { MLX_STANDIN_STEP_SECONDS: '1' } });
    const first = res.json().runs[0].runId;
    await waitFor(async () => (await getRun(first)).progress.iteration >= 1, {
      what: 'the first member to train',
    });

    const cancel = await env.app.inject({ method: 'POST', url: `/v1/sweeps/${id}/cancel` });
    expect(cancel.statusCode, cancel.body).toBe(200);
    const result = cancel.json();
    expect(result.cancelling, cancel.body).toEqual([first]);
    expect(result.cancelled, cancel.body).toHaveLength(3);
    expect(result.errors).toEqual([]);
    expect(result.sweep.status).toBe('cancelled');

    const sweep = await waitSweep(id, allFinal, 20_000);
    expect(sweep.counts).toMatchObject({ cancelled: 4, queued: 0, running: 0, interrupted: 0 });
    expect(sweep.status).toBe('cancelled');
    expect(await pendingJobs()).toBe(0);
    const stopped = await getRun(first);
    expect(stopped.progress.iteration).toBeLessThan(10);
    expect(stopped.events.map((e: { toStatus: string }) => e.toStatus)).toEqual([
      'queued',
      'running',
      'cancelled',
    ]);

    const again = await env.app.inject({ method: 'POST', url: `/v1/sweeps/${id}/cancel` });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ cancelled: [], cancelling: [], alreadyFinal: 4 });
  });

  it('answers 404 for an unknown sweep', async () => {
    expect((await env.app.inject({ method: 'POST', url: '/v1/sweeps/swp_nope/cancel' })).statusCode).toBe(
      404,
    );
    expect((await env.app.inject({ method: 'GET', url: '/v1/sweeps/swp_nope' })).statusCode).toBe(404);
  });
});
