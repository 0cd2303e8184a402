import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { MODEL as model, TEST_DATA } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';
import { waitFor } from '../helpers/wait-for.js';

const env = useTestEnv();
const sftBase = {
  method: 'sft',
  model,
  data: path.join(TEST_DATA, 'sft-chat'),
  iters: 6,
  batch_size: 1,
  steps_per_report: 3,
  steps_per_eval: 3,
};
const grid = { learning_rate: [1e-6, 1e-5, 1e-4] };

const post = (body: object) => env.app.inject({ method: 'POST', url: '/v1/sweeps', payload: body });

describe('sweep metric names', () => {
  it('metric val_loss means validation loss: the best run is the one with the lowest final val loss', async () => {
    const res = await post({ base: sftBase, grid, metric: { name: 'val_loss', goal: 'min' } });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().metric).toEqual({ name: 'loss', split: 'val', goal: 'min' });
    await env.startWorker();
    const sweep = await waitFor(
      async () => {
        const s = (await env.app.inject({ method: 'GET', url: `/v1/sweeps/${res.json().id}` })).json();
        return s.status === 'done' ? s : null;
      },
      { timeoutMs: 90_000, intervalMs: 200, what: 'the sweep to finish' },
    );
    expect(sweep.counts).toMatchObject({ succeeded: 3, total: 3 });
    const finals = await Promise.all(
      sweep.runs.map(async (r: { runId: string }) => {
        const points = (
          await env.app.inject({ method: 'GET', url: `/v1/runs/${r.runId}/metrics?name=loss&split=val` })
        ).json().points as { iteration: number; value: number }[];
        const last = points.reduce((a, b) => (b.iteration > a.iteration ? b : a));
        return { runId: r.runId, val: last.value };
      }),
    );
    const lowest = Math.min(...finals.map((f) => f.val));
    expect(new Set(finals.map((f) => f.val)).size).toBe(3);
    expect(sweep.best.runId).toBe(finals.find((f) => f.val === lowest)!.runId);
    expect(sweep.best.value).toBe(lowest);
  });

  it('metric val_los is a 400 on metric.name listing the valid names, and nothing is queued', async () => {
    const res = await post({ base: sftBase, grid, metric: { name: 'val_los', goal: 'min' } });
    expect(res.statusCode).toBe(400);
    const issue = (res.json().issues as { path: string; message: string }[]).find(
      (i) => i.path === 'metric.name',
    );
    expect(issue?.message).toMatch(/^"val_los" is not a metric reported by sft; valid names: loss, /);
    for (const n of ['val_loss', 'train_loss', 'val/loss', 'eval_loss', 'perplexity', 'tokens_per_sec'])
      expect(issue?.message).toContain(n);
    const early = await post({
      base: sftBase,
      grid,
      early_stopping: { rule: 'median' },
      metric: { name: 'val_los', goal: 'min' },
    });
    expect(early.statusCode).toBe(400);
    expect(early.json().issues[0].path).toBe('metric.name');
    expect((await env.app.inject({ method: 'GET', url: '/v1/sweeps' })).json().items).toHaveLength(0);
    expect(await env.queue.count()).toBe(0);
  });

  it("GET /v1/methods lists each method's metrics and the aliases", async () => {
    const cat = (await env.app.inject({ method: 'GET', url: '/v1/methods' })).json();
    const grpo = cat.methods.find((m: { method: string }) => m.method === 'grpo');
    const names = grpo.metrics.map((m: { name: string }) => m.name);
    for (const n of [
      'loss',
      'perplexity',
      'learning_rate',
      'tokens_per_sec',
      'it_per_sec',
      'peak_memory_gb',
      'total_rewards_mean',
      'group_rewards_mean',
      'kl',
      'reward/<function>/mean',
      'clip_total',
      'avg_tokens',
    ])
      expect(names).toContain(n);
    expect(grpo.metrics.find((m: { name: string }) => m.name === 'loss').splits).toEqual([
      'train',
      'val',
      'test',
    ]);
    expect(cat.metricAliases).toMatchObject({
      val_loss: 'val loss',
      train_loss: 'train loss',
      'val/loss': 'val loss',
      eval_loss: 'val loss',
    });
    expect(Object.keys(cat.metricAliases)).toEqual(expect.arrayContaining(['reward', 'mean_reward']));
  });
});
