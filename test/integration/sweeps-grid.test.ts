// A grid sweep end to end: every combination runs once, in order, with its own values; the best run by val loss or
// by mean reward (past a failed member); the CSV export and the sweeps list.
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { argValue } from '../../src/domain/build-command.js';
import {
  allFinal,
  grid3x3,
  grpoBase,
  sweepApi,
  type SweepRow as Row,
  valLoss,
} from '../helpers/sweep-api.js';
import { MODEL as model } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';

const env = useTestEnv();
const { postSweep, getRun, waitSweep } = sweepApi(env);

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
