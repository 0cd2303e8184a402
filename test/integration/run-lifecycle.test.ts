import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { MODEL as model, TEST_DATA } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';
import { waitFor } from '../helpers/wait-for.js';

const env = useTestEnv();

async function submit(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return env.app.inject({ method: 'POST', url: '/v1/runs', payload: body, headers });
}

async function getRun(id: string) {
  return (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}` })).json();
}

async function waitFinal(id: string, timeoutMs = 30_000) {
  return waitFor(
    async () => {
      const r = await getRun(id);
      return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : null;
    },
    { timeoutMs, what: `run ${id} to end` },
  );
}

/** A 10-iteration SFT run of the chat data set at batch size 2, with `extra` request fields. */
const submitSft = (extra: Record<string, unknown> = {}) =>
  submit({
    method: 'sft',
    model,
    data: path.join(TEST_DATA, 'sft-chat'),
    iters: 10,
    batch_size: 2,
    ...extra,
  });

/** The final state of such a run on a worker whose stand-in trainer gets `trainerEnv`. */
async function finalSftRun(trainerEnv: Record<string, string>) {
  await env.startWorker({ trainerEnv });
  return waitFinal((await submitSft()).json().id);
}

describe('a run submitted over HTTP', () => {
  it('GRPO goes queued -> running -> succeeded with loss and reward curves, logs and adapters', async () => {
    await env.startWorker();
    const res = await submit({
      method: 'grpo',
      model,
      data: path.join(TEST_DATA, 'grpo'),
      iters: 20,
      batch_size: 2,
      steps_per_report: 5,
      steps_per_eval: 10,
      save_every: 10,
      group_size: 4,
      temperature: 0.9,
      reward_functions: ['r1_accuracy_reward_func', 'r1_count_xml'],
    });
    expect(res.statusCode, res.body).toBe(201);
    const created = res.json();
    expect(created.status).toBe('queued');
    expect(created.argv).toContain('--temperature=0.9');

    const run = await waitFinal(created.id);
    expect(run.status, run.error).toBe('succeeded');
    expect(run.events.map((e: { toStatus: string }) => e.toStatus)).toEqual([
      'queued',
      'running',
      'succeeded',
    ]);
    expect(run.adapterFile).toMatch(/adapters\.safetensors$/);
    expect(fs.existsSync(run.adapterFile)).toBe(true);
    expect(run.checkpoints).toEqual(['0000010_adapters.safetensors', '0000020_adapters.safetensors']);
    expect(run.mlxVersion).toBe('3.1.2');
    expect(run.progress).toMatchObject({ iteration: 20, total: 20, percent: 100 });
    expect(run.durationMs).toBeGreaterThan(0);

    const metrics = (await env.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/metrics` })).json();
    const names = new Set(metrics.points.map((p: { name: string }) => p.name));
    for (const n of ['loss', 'total_rewards_mean', 'kl', 'reward/accuracy/mean', 'reward/count_xml/mean'])
      expect(names).toContain(n);
    const trainLoss = metrics.points.filter(
      (p: { name: string; split: string }) => p.name === 'loss' && p.split === 'train',
    );
    expect(trainLoss.map((p: { iteration: number }) => p.iteration)).toEqual([5, 10, 15, 20]);
    expect(metrics.points.some((p: { split: string }) => p.split === 'val')).toBe(true);

    const logs = await env.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/logs` });
    expect(logs.headers['content-type']).toMatch(/text\/plain/);
    expect(logs.body).toContain('Saved final weights to');
    expect(logs.body).not.toContain('\u001b[');
  });

  it('SFT succeeds with its loss curve and no fused model (fuse is off by default)', async () => {
    await env.startWorker();
    const res = await submitSft({ steps_per_report: 2, save_every: 5 });
    expect(res.statusCode, res.body).toBe(201);
    const run = await waitFinal(res.json().id);
    expect(run.status, run.error).toBe('succeeded');
    expect(run.latestMetrics.length).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(run.adapterPath, 'model.safetensors'))).toBe(false);
    const loss = (
      await env.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/metrics?name=loss&split=train` })
    ).json();
    expect(loss.points.map((p: { iteration: number }) => p.iteration)).toEqual([2, 4, 6, 8, 10]);
  });

  it('a crashing trainer ends failed with its exit code and last lines', async () => {
    const run = await finalSftRun({ MLX_STANDIN_CRASH_AT_ITER: '3' });
    expect(run.status).toBe('failed');
    expect(run.exitCode).toBe(1);
    expect(run.error).toMatch(/exited with code 1/);
    expect(run.error).toMatch(/RuntimeError/);
  });

  it('an exit 0 without adapters.safetensors ends failed (upstream skips training on an error)', async () => {
    const run = await finalSftRun({ MLX_STANDIN_EXIT_AFTER_ERROR: '1' });
    expect(run.status).toBe('failed');
    expect(run.exitCode).toBe(0);
    expect(run.error).toMatch(/wrote no adapters\.safetensors/);
  });

  it('a worker whose Python has no mlx-lm-lora takes no job: the run waits with the install advice', async () => {
    await env.startWorker({ config: { mlxPython: 'python3' }, trainerEnv: { PYTHONPATH: '' } });
    const res = await submitSft();
    const run = await waitFor(
      async () => {
        const r = (await env.app.inject({ url: `/v1/runs/${res.json().id}` })).json();
        return r.waiting ? r : null;
      },
      { what: 'the waiting reason' },
    );
    expect(run.status).toBe('queued');
    expect(run.waiting).toMatch(/pip install mlx-lm-lora/);
  });
});

describe('queries', () => {
  it('lists runs newest first with filters and a cursor', async () => {
    const ids: string[] = [];
    for (const method of ['sft', 'grpo', 'sft']) {
      const data = path.join(TEST_DATA, method === 'sft' ? 'sft-chat' : 'grpo');
      const r = await submit({
        method,
        model,
        data,
        iters: 5,
        batch_size: 2,
        tags: [method === 'sft' ? 'a' : 'b'],
      });
      expect(r.statusCode, r.body).toBe(201);
      ids.push(r.json().id);
    }
    const all = (await env.app.inject({ method: 'GET', url: '/v1/runs?limit=2' })).json();
    expect(all.items.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    // Lists carry summaries; the request, command and config are on the run itself.
    expect(all.items[0]).toMatchObject({ method: 'sft', status: 'queued', progress: expect.any(Object) });
    expect(all.items[0]).not.toHaveProperty('argv');
    expect(all.items[0]).not.toHaveProperty('request');
    const next = (
      await env.app.inject({
        method: 'GET',
        url: `/v1/runs?limit=2&cursor=${encodeURIComponent(all.nextCursor)}`,
      })
    ).json();
    expect(next.items.map((r: { id: string }) => r.id)).toEqual([ids[0]]);
    expect(next.nextCursor).toBeNull();
    const sft = (await env.app.inject({ method: 'GET', url: '/v1/runs?method=sft&status=queued' })).json();
    expect(sft.items).toHaveLength(2);
    const tagged = (await env.app.inject({ method: 'GET', url: '/v1/runs?tag=b' })).json();
    expect(tagged.items.map((r: { id: string }) => r.id)).toEqual([ids[1]]);
    const bad = await env.app.inject({ method: 'GET', url: '/v1/runs?status=bogus' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0].path).toMatch(/status/);
  });

  it('answers 404 for an unknown run', async () => {
    const r = await env.app.inject({ method: 'GET', url: '/v1/runs/run_nope' });
    expect(r.statusCode).toBe(404);
    expect(r.json().error).toBe('not_found');
  });

  it('readyz reports Redis and SQLite', async () => {
    const r = await env.app.inject({ method: 'GET', url: '/readyz' });
    expect(r.statusCode).toBe(200);
    expect(r.json().checks).toMatchObject({ redis: { ok: true }, sqlite: { ok: true } });
  });
});
