import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { TEST_DATA } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';
import { waitFor } from '../helpers/wait-for.js';

const env = useTestEnv();

const ITERS = 30;
// The stand-in's loss falls faster with a larger learning rate (same seed, so the same curve otherwise): run in
// this order, the first two complete and set the median, the last two are clearly worse at iteration 5.
const base = {
  method: 'sft',
  model: 'mlx-community/Qwen2.5-0.5B-Instruct-4bit',
  data: path.join(TEST_DATA, 'sft-text'),
  iters: ITERS,
  batch_size: 2,
  steps_per_report: 5,
  steps_per_eval: 5,
  save_every: 5,
};
const grid = { learning_rate: [1e-4, 5e-5, 2e-6, 1e-6] };
const metric = { name: 'loss', goal: 'min' };
const trainerEnv = { MLX_STANDIN_STEP_SECONDS: '0.1' };

interface Row {
  index: number;
  runId: string;
  status: string;
  stopReason: string | null;
  progress: { iteration: number | null; total: number | null };
}
interface Detail {
  id: string;
  earlyStopped: number;
  counts: Record<string, number>;
  runs: Row[];
  best: { index: number; provisional: boolean } | null;
  spec: Record<string, unknown>;
}

async function runSweep(body: object): Promise<Detail> {
  const res = await env.app.inject({ method: 'POST', url: '/v1/sweeps', payload: body });
  expect(res.statusCode, res.body).toBe(201);
  const id = res.json<{ id: string }>().id;
  await env.startWorker({ trainerEnv });
  return waitFor(
    async () => {
      const s = (await env.app.inject({ method: 'GET', url: `/v1/sweeps/${id}` })).json<Detail>();
      return s.counts.total! > 0 &&
        s.runs.every((r) => ['succeeded', 'failed', 'cancelled'].includes(r.status))
        ? s
        : null;
    },
    { timeoutMs: 90_000, intervalMs: 100, what: `sweep ${id} to finish` },
  );
}

async function getRun(id: string) {
  return (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}` })).json<{
    status: string;
    stopReason: string | null;
    runDir: string;
    checkpoints: string[] | null;
    events: { toStatus: string; reason: string | null }[];
    attempts: unknown[];
  }>();
}

describe('a sweep with early_stopping (median rule)', () => {
  it('stops the later, worse runs early while the best ones complete, and says why', async () => {
    const s = await runSweep({ name: 'lr-median', base, grid, metric, early_stopping: { rule: 'median' } });
    expect(s.spec.early_stopping).toEqual({ rule: 'median', min_completed_runs: 2 });
    const [best, second, worse, worst] = s.runs;
    for (const r of [best!, second!]) {
      expect(r).toMatchObject({ status: 'succeeded', stopReason: null, progress: { iteration: ITERS } });
    }
    for (const r of [worse!, worst!]) {
      expect(r).toMatchObject({ status: 'cancelled', stopReason: 'early_stopped' });
      expect(r.progress.iteration).toBeLessThan(ITERS);
      const run = await getRun(r.runId);
      const event = run.events.at(-1)!;
      expect(event.toStatus).toBe('cancelled');
      expect(event.reason).toMatch(
        /^early stopped by the median rule: val loss [\d.]+ at iteration \d+ is above the median [\d.]+ of 2 completed sweep runs at that iteration$/,
      );
      // The rule fires on a validation report; upstream prints it before that iteration's train report, so the
      // recorded progress may still show the iteration before. The decision itself names its iteration.
      const decided = Number(/at iteration (\d+)/.exec(event.reason!)![1]);
      expect(decided).toBeGreaterThanOrEqual(5);
      expect(decided).toBeLessThan(ITERS);
      // Never retried; the log (and any checkpoint) stays.
      expect(run.attempts).toHaveLength(1);
      expect(fs.readFileSync(path.join(run.runDir, 'train.log'), 'utf8')).toMatch(/Val loss/);
      for (const cp of run.checkpoints ?? [])
        expect(fs.existsSync(path.join(run.runDir, 'adapters', cp)), cp).toBe(true);
    }
    expect(s.counts).toMatchObject({ succeeded: 2, cancelled: 2, total: 4 });
    expect(s.earlyStopped).toBe(2);
    const csv = (await env.app.inject({ method: 'GET', url: `/v1/sweeps/${s.id}?format=csv` })).body
      .trimEnd()
      .split('\r\n');
    const col = csv[0]!.split(',').indexOf('stop_reason');
    expect(csv.slice(1).map((l) => l.split(',')[col])).toEqual(['', '', 'early_stopped', 'early_stopped']);
    expect(s.best).toMatchObject({ index: 0, provisional: false });
    // The stop came from the rule's own check, so no job was left to retry.
    const jobs = await env.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed');
    expect(Object.values(jobs).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('stops nothing when the sweep does not ask for it', async () => {
    const s = await runSweep({ name: 'lr-plain', base, grid, metric });
    expect(s.spec.early_stopping).toBeUndefined();
    expect(s.counts).toMatchObject({ succeeded: 4, total: 4 });
    expect(s.earlyStopped).toBe(0);
    for (const r of s.runs) expect(r).toMatchObject({ stopReason: null, progress: { iteration: ITERS } });
  });
});
