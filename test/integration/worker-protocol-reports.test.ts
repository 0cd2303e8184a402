// Reports of a running attempt: log chunks by byte offset and metric batches stored once however often sent, a
// worker whose attempt is not the current one refused, and the control poll that says cancel.
import { describe, expect, it } from 'vitest';

import { chunk, line, useWorkerProtocolEnv } from '../helpers/worker-protocol-env.js';

const { env, tokens, newRun, call, start, logs, count } = useWorkerProtocolEnv();

describe('reports of a running attempt', () => {
  it('log chunks by byte offset: a repeat changes nothing, a gap is refused, the log holds every line once', async () => {
    const id = newRun();
    await start(tokens.macA, id);
    const a = chunk(1, 0, [line(1, 'one'), line(2, 'two')]);
    const r1 = await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/logs`, a);
    expect(r1.json()).toEqual({ accepted: 8, duplicate: false });
    expect((await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/logs`, a)).json()).toEqual({
      accepted: 8,
      duplicate: true,
    });
    const gap = await call(
      tokens.macA,
      'POST',
      `/v1/worker/runs/${id}/logs`,
      chunk(1, 20, [line(5, 'five')]),
    );
    expect(gap.statusCode).toBe(409);
    expect(gap.json().message).toContain('holds 8 bytes');
    const b = {
      ...chunk(1, 8, [line(3, 'three')]),
      progress: { progressIteration: 3, progressTotal: 30, latestLoss: 1.5 },
    };
    expect((await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/logs`, b)).json()).toEqual({
      accepted: 14,
      duplicate: false,
    });
    expect((await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/logs`, a)).json().duplicate).toBe(true);
    expect(await logs(id)).toBe('one\ntwo\nthree\n');
    const run = (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}` })).json();
    expect(run).toMatchObject({ logBytes: 14, logLines: 3 });
    expect(run.progress).toMatchObject({ iteration: 3, total: 30, latestLoss: 1.5 });
  });

  it('metric batches: the same batch twice is stored once', async () => {
    const id = newRun();
    await start(tokens.macA, id);
    const batch = {
      attempt: 1,
      points: [
        { iteration: 10, split: 'train', name: 'loss', value: 2.5 },
        { iteration: 10, split: 'val', name: 'loss', value: null },
      ],
    };
    for (let i = 0; i < 3; i++) {
      const r = await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/metrics`, batch);
      expect(r.json()).toMatchObject({ stored: 2, cancel: false });
    }
    expect(count('SELECT count(*) FROM metrics WHERE run_id = ?', id)).toBe(2);
  });

  it('another worker, or a superseded attempt, is refused with 409 stale_attempt', async () => {
    const id = newRun();
    await start(tokens.macA, id);
    const other = await call(tokens.macB, 'POST', `/v1/worker/runs/${id}/logs`, chunk(1, 0, [line(1, 'x')]));
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({
      error: 'stale_attempt',
      message: expect.stringContaining('belongs to worker mac-a'),
    });
    const wrong = await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/metrics`, {
      attempt: 2,
      points: [],
    });
    expect(wrong.json().error).toBe('stale_attempt');
  });

  it('the control poll says cancel once a cancel is asked for', async () => {
    const id = newRun();
    await start(tokens.macA, id);
    expect((await call(tokens.macA, 'GET', `/v1/worker/runs/${id}/control?attempt=1`)).json()).toEqual({
      status: 'running',
      attempt: 1,
      cancel: false,
      stop: null,
    });
    expect((await env.app.inject({ method: 'POST', url: `/v1/runs/${id}/cancel` })).statusCode).toBe(202);
    expect((await call(tokens.macA, 'GET', `/v1/worker/runs/${id}/control?attempt=1`)).json()).toMatchObject({
      cancel: true,
      stop: { stopReason: 'cancelled' },
    });
  });
});
