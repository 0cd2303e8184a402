// A sweep that cannot run entirely is refused whole: an invalid grid value, a broken base field, an unknown or
// inapplicable parameter, a bad varied dataset, more runs than max_runs, or Redis down; nothing is left behind.
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { buildApp } from '../../src/api/app.js';
import { createDatasetValidator } from '../../src/datasets/validate-dataset.js';
import { createDataResolver } from '../../src/inputs/resolve-data.js';
import { apiRedisOptions, createRedis, createRunsQueue } from '../../src/shared/queue.js';
import { grid3x3, grpoBase, sweepApi, valLoss } from '../helpers/sweep-api.js';
import { redisUrl, TEST_DATA } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';

const env = useTestEnv();
const { postSweep, pendingJobs } = sweepApi(env);

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
