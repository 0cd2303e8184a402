// Cancelling a sweep: the running member stops, the queued ones are cancelled, no job is left; an unknown sweep is 404.
import { describe, expect, it } from 'vitest';

import { allFinal, grpoBase, sweepApi, valLoss } from '../helpers/sweep-api.js';
import { useTestEnv } from '../helpers/use-test-env.js';
import { waitFor } from '../helpers/wait-for.js';

const env = useTestEnv();
const { postSweep, getRun, waitSweep, pendingJobs } = sweepApi(env);

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
