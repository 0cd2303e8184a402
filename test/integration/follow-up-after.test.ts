// `after` on runs and sweeps and `best_after` on sweeps: follow-up jobs queued when runs succeed and sweeps end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { sftRequest, waitJobFinal, waitRunFinal } from '../helpers/follow-up.js';
import { createTestEnv, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test JSON bodies

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
  await env.startWorker();
}, 60_000);
afterAll(async () => {
  await env.cleanup();
});

const jobsOf = async (runId: string) =>
  (await env.app.inject({ method: 'GET', url: `/v1/runs/${runId}/jobs` })).json<{ items: Json[] }>().items;

describe('follow-up jobs queued by runs and sweeps', { timeout: 180_000 }, () => {
  it('a run with after evaluates itself when it succeeds', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: sftRequest({ after: [{ kind: 'evaluate' }] }),
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().request.after).toEqual([{ kind: 'evaluate', test_batches: -1, batch_size: 1 }]);
    const run = await waitRunFinal(env, res.json<Json>().id as string);
    expect(run.status).toBe('succeeded');
    const [job] = await waitFor(
      async () => ((await jobsOf(run.id as string)).length ? jobsOf(run.id as string) : null),
      { timeoutMs: 10_000, what: 'the after job' },
    );
    expect(job).toMatchObject({ kind: 'evaluate', origin: 'after' });
    expect((await waitJobFinal(env, job!.id as string)).result.test_loss).toBeGreaterThan(0);
  });

  it('after with a request that cannot work is refused at submit, naming after.<i>.<field>', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: sftRequest({ after: [{ kind: 'evaluate' }, { kind: 'samples', prompts: [] }] }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().issues[0].path).toBe('after.1.prompts');
  });

  it('after on a sweep evaluates every member; best_after fuses only the best run', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/sweeps',
      payload: {
        name: 'lr',
        base: sftRequest(),
        grid: { learning_rate: [1e-5, 5e-4, 1e-4] },
        metric: { name: 'loss', goal: 'min' },
        after: [{ kind: 'evaluate' }],
        best_after: [{ kind: 'fuse', verify: { prompts: ['Hello there'], max_tokens: 16 } }],
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const sweepId = res.json<Json>().id as string;
    const members = (await env.app.inject({ method: 'GET', url: `/v1/sweeps/${sweepId}` })).json<Json>()
      .runs as Json[];
    expect(members).toHaveLength(3);
    for (const m of members)
      expect((await waitRunFinal(env, m.runId as string, 90_000)).status).toBe('succeeded');
    const best = (await env.app.inject({ method: 'GET', url: `/v1/sweeps/${sweepId}` })).json<Json>().best;
    // The highest learning rate falls fastest in the stand-in trainer.
    expect(best.values).toEqual({ learning_rate: 5e-4 });
    const all = await waitFor(
      async () => {
        const lists = await Promise.all(members.map((m) => jobsOf(m.runId as string)));
        return lists.flat().length === 4 ? lists : null;
      },
      { timeoutMs: 20_000, what: '3 evaluate jobs and 1 fuse job' },
    );
    for (const [i, list] of all.entries()) {
      const kinds = list.map((j) => `${j.kind}:${j.origin}`).sort();
      expect(kinds).toEqual(
        members[i]!.runId === best.runId ? ['evaluate:after', 'fuse:best_after'] : ['evaluate:after'],
      );
      for (const j of list)
        expect((await waitJobFinal(env, j.id as string)).status, j.error).toBe('succeeded');
    }
  });
});
