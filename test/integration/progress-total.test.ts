import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { updateRunProgress } from '../../src/db/runs-repository.js';
import { MODEL as model, TEST_DATA } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';
import { waitFor } from '../helpers/wait-for.js';

const env = useTestEnv();
// sft-chat has 10 train rows: 3 epochs of batch 4 are 3 * ceil(10 / 4) = 9 iterations, as upstream computes them.
const sft = {
  method: 'sft',
  model,
  data: path.join(TEST_DATA, 'sft-chat'),
  batch_size: 4,
  steps_per_report: 1,
  steps_per_eval: 100,
};

const submit = async (body: object) => {
  const res = await env.app.inject({ method: 'POST', url: '/v1/runs', payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string; progress: { iteration: number | null; total: number | null } }>();
};
const getRun = async (id: string) => (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}` })).json();
const logOf = async (id: string) =>
  (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}/logs` })).body;

describe('progress total from the request', () => {
  it('is known at submit: iters as given, epochs as upstream computes them (also in the dry run)', async () => {
    expect((await submit({ ...sft, iters: 7 })).progress.total).toBe(7);
    expect((await submit({ ...sft, epochs: 3 })).progress.total).toBe(9);
    const { batch_size: _omitted, ...defaultBatch } = sft;
    expect((await submit({ ...defaultBatch, epochs: 2 })).progress.total).toBe(6);
    const dry = await env.app.inject({
      method: 'POST',
      url: '/v1/runs?dryRun=true',
      payload: { ...sft, epochs: 3 },
    });
    expect(dry.json().progressTotal).toBe(9);
  });

  it("a run whose trainer prints no Starting line and no bar shows the request's total while it trains", async () => {
    const run = await submit({ ...sft, iters: 6 });
    await env.startWorker({ trainerEnv: { MLX_STANDIN_NO_BAR: '1', MLX_STANDIN_STEP_SECONDS: '0.3' } });
    const mid = await waitFor(
      async () => {
        const r = await getRun(run.id);
        return r.status === 'running' && r.progress.iteration >= 2 ? r : null;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: 'the run to report iteration 2' },
    );
    expect(mid.progress).toMatchObject({ total: 6 });
    expect(mid.progress.percent).toBeGreaterThan(0);
    const done = await waitFor(
      async () => {
        const r = await getRun(run.id);
        return r.status === 'succeeded' ? r : null;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: 'the run to succeed' },
    );
    expect(done.progress).toMatchObject({ iteration: 6, total: 6, percent: 100 });
    const log = await logOf(run.id);
    expect(log).not.toMatch(/Starting .*training|Training: +\d+%|Calculated \d+ iterations/);
  });

  it('is corrected by upstream\'s "Calculated N iterations" line', async () => {
    const run = await submit({ ...sft, epochs: 3 });
    expect(run.progress.total).toBe(9);
    // A wrong expectation (as when upstream drops rows the service counted): the trainer's own count wins.
    updateRunProgress(env.db, run.id, { progressTotal: 99 });
    await env.startWorker({ trainerEnv: { MLX_STANDIN_NO_BAR: '1' } });
    const done = await waitFor(
      async () => {
        const r = await getRun(run.id);
        return r.status === 'succeeded' ? r : null;
      },
      { timeoutMs: 60_000, intervalMs: 100, what: 'the run to succeed' },
    );
    expect(await logOf(run.id)).toContain('[INFO] Calculated 9 iterations from 3 epochs');
    expect(done.progress).toMatchObject({ iteration: 9, total: 9, percent: 100 });
  });
});
