// Attempt start over the worker protocol: once per delivery (another delivery of the job is told busy), and a final
// or cancel-requested run is not started.
import { randomUUID } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { useWorkerProtocolEnv } from '../helpers/worker-protocol-env.js';

const { env, tokens, newRun, start, count } = useWorkerProtocolEnv();

describe('attempt start', () => {
  it('a delivery asking twice gets the same attempt; another delivery of the same job is told busy', async () => {
    const id = newRun();
    const d = randomUUID();
    const first = await start(tokens.macA, id, d);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({
      outcome: 'started',
      runId: id,
      attempt: 1,
      log: { offset: 0, seq: 0 },
      resume: null,
    });
    expect((await start(tokens.macA, id, d)).json()).toMatchObject({ outcome: 'started', attempt: 1 });
    const dup = await start(tokens.macB, id);
    expect(dup.json()).toEqual({
      outcome: 'busy',
      running: true,
      delayMs: null,
      reason: expect.stringContaining('mac-a'),
    });
    const run = (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}` })).json();
    expect(run).toMatchObject({ status: 'running', attempt: 1, worker: 'mac-a' });
    expect(count('SELECT count(*) FROM run_attempts WHERE run_id = ?', id)).toBe(1);
  });

  it('a final run is final; a queued run with a cancel asked for is cancelled instead of started', async () => {
    const id = newRun();
    await env.app.inject({ method: 'POST', url: `/v1/runs/${id}/cancel` });
    expect((await start(tokens.macA, id)).json()).toEqual({ outcome: 'final', status: 'cancelled' });
    const id2 = newRun();
    env.db.$client.prepare('UPDATE runs SET cancel_requested_at = 1 WHERE id = ?').run(id2);
    expect((await start(tokens.macA, id2)).json()).toEqual({ outcome: 'final', status: 'cancelled' });
  });
});
