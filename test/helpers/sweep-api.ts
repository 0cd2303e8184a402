// The sweep tests' shared set-up: a GRPO base and 3x3 grid, and the sweep API of a TestEnv through app.inject.
import path from 'node:path';

import { MODEL as model, TEST_DATA, type TestEnv } from './test-env.js';
import { waitFor } from './wait-for.js';

export const grpoBase = {
  method: 'grpo',
  model,
  data: path.join(TEST_DATA, 'grpo'),
  iters: 10,
  batch_size: 2,
  steps_per_report: 5,
  steps_per_eval: 5,
};
export const grid3x3 = { group_size: [2, 4, 8], temperature: [0.7, 0.9, 1.1] };
export const valLoss = { name: 'loss', goal: 'min' };

export interface SweepRow {
  index: number;
  runId: string;
  status: string;
  values: Record<string, unknown>;
  valLoss: { final: { value: number } | null };
  objective: { final: { value: number; iteration: number } | null };
  meanReward: { final: { value: number } | null } | null;
}

type Counted = { counts: Record<string, number> };

/** No member queued, running or interrupted. */
export const allFinal = (s: Counted) =>
  (s.counts.queued ?? 0) + (s.counts.running ?? 0) + (s.counts.interrupted ?? 0) === 0;

/** POST/GET of sweeps and runs on `env`'s app, and the jobs left in its queue. */
export function sweepApi(env: TestEnv) {
  const getSweep = async (id: string) =>
    (await env.app.inject({ method: 'GET', url: `/v1/sweeps/${id}` })).json();
  return {
    postSweep: (body: unknown) =>
      env.app.inject({ method: 'POST', url: '/v1/sweeps', payload: body as object }),
    getSweep,
    getRun: async (id: string) => (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}` })).json(),
    /** The sweep once `done` holds of it, polled every 100 ms. */
    waitSweep: (id: string, done: (s: Counted) => boolean, timeoutMs = 60_000) =>
      waitFor(
        async () => {
          const s = await getSweep(id);
          return done(s) ? s : null;
        },
        { timeoutMs, intervalMs: 100, what: `sweep ${id}` },
      ),
    /** Jobs of any state in the test's queue: none may be left behind a sweep that was refused or cancelled. */
    pendingJobs: async () => {
      const c = await env.queue.getJobCounts(
        'waiting',
        'prioritized',
        'active',
        'delayed',
        'waiting-children',
      );
      return Object.values(c).reduce((a, b) => a + b, 0);
    },
  };
}
