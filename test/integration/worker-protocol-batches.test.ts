// Report batches over the worker protocol: a spool's backlog of log chunks and metric batches in one call, applied in
// order in one transaction, each report stored once however often replayed; a refused batch stores nothing.
import { describe, expect, it } from 'vitest';

import { useWorkerProtocolEnv } from '../helpers/worker-protocol-env.js';

const { env, tokens, newRun, call, start, logs, count } = useWorkerProtocolEnv();

/** Log chunks of `per` lines each, numbered on from line `from` (1-based) at byte `offset`. */
function logChunks(from: number, count: number, per: number, offset: number) {
  const out = [];
  for (let c = 0; c < count; c++) {
    const lines = Array.from({ length: per }, (_, j) => {
      const seq = from + c * per + j;
      return { seq, stream: 'stdout' as const, text: `line ${seq} ünïcode`, at: 1 };
    });
    const bytes = lines.reduce((b, l) => b + Buffer.byteLength(l.text) + 1, 0);
    out.push({ kind: 'logs' as const, body: { attempt: 1, offset, bytes, lines } });
    offset += bytes;
  }
  return out;
}
const metrics = (iteration: number) => ({
  kind: 'metrics' as const,
  body: { attempt: 1, points: [{ iteration, split: 'train', name: 'loss', value: 3 - iteration / 100 }] },
});
const expectedLog = (lines: number) =>
  Array.from({ length: lines }, (_, i) => `line ${i + 1} ünïcode\n`).join('');

// A batch (a spool's backlog of log chunks and metric batches in one call) is applied in order in one transaction,
// each report with its own idempotency; a refused batch stores nothing at all.
describe('report batches', () => {
  it('logs and metrics in one call are stored once however often the batch is replayed, whole or overlapping', async () => {
    const id = newRun();
    await start(tokens.macA, id);
    const first = logChunks(1, 3, 5, 0);
    const batch1 = [first[0]!, metrics(1), first[1]!, metrics(2), first[2]!];
    const r1 = await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/reports`, { reports: batch1 });
    expect(r1.statusCode, r1.body).toBe(200);
    const held = first[2]!.body.offset + first[2]!.body.bytes;
    expect(r1.json()).toEqual({
      accepted: held,
      stored: 2,
      duplicates: 0,
      status: 'running',
      attempt: 1,
      cancel: false,
      stop: null,
    });
    // The same call again (its answer was lost): nothing changes.
    const r2 = await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/reports`, { reports: batch1 });
    expect(r2.json()).toMatchObject({ accepted: held, duplicates: 3 });
    // A batch overlapping what is held (a worker that lost its position part-way): only the new lines go in.
    const more = logChunks(16, 2, 5, held);
    const r3 = await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/reports`, {
      reports: [first[1]!, first[2]!, metrics(2), more[0]!, metrics(3), more[1]!],
    });
    expect(r3.statusCode, r3.body).toBe(200);
    expect(r3.json()).toMatchObject({ accepted: more[1]!.body.offset + more[1]!.body.bytes, duplicates: 2 });
    // One by one after the batch: still each once.
    expect(
      (await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/logs`, more[0]!.body)).json().duplicate,
    ).toBe(true);

    expect(await logs(id)).toBe(expectedLog(25));
    const run = (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}` })).json();
    expect(run).toMatchObject({ logLines: 25, logBytes: more[1]!.body.offset + more[1]!.body.bytes });
    expect(count('SELECT count(*) FROM log_lines WHERE run_id = ?', id)).toBe(25);
    expect(count('SELECT count(*) FROM metrics WHERE run_id = ?', id)).toBe(3);
  });

  it('a batch with a gap is refused whole (409) and stores nothing; each report alone gets its own verdict', async () => {
    const id = newRun();
    await start(tokens.macA, id);
    const chunks = logChunks(1, 3, 4, 0);
    const gap = await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/reports`, {
      reports: [chunks[0]!, metrics(1), chunks[2]!],
    });
    expect(gap.statusCode).toBe(409);
    expect(gap.json().message).toContain('log gap');
    expect(await logs(id)).toBe('');
    expect(count('SELECT count(*) FROM metrics WHERE run_id = ?', id)).toBe(0);
    expect((await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/logs`, chunks[0]!.body)).statusCode).toBe(
      200,
    );
    expect(await logs(id)).toBe(expectedLog(4));
  });

  it('a batch from another worker or a superseded attempt is stale; a bad field is a 400 naming it', async () => {
    const id = newRun();
    await start(tokens.macA, id);
    const other = await call(tokens.macB, 'POST', `/v1/worker/runs/${id}/reports`, {
      reports: logChunks(1, 1, 2, 0),
    });
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ error: 'stale_attempt' });
    const wrong = await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/reports`, {
      reports: [{ kind: 'metrics', body: { attempt: 2, points: [] } }],
    });
    expect(wrong.json().error).toBe('stale_attempt');
    const bad = await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/reports`, {
      reports: [{ kind: 'logs', body: { attempt: 1, offset: -1, bytes: 0, lines: [] } }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues).toContainEqual(expect.objectContaining({ path: 'body.reports.0.body.offset' }));
    const empty = await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/reports`, { reports: [] });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().issues).toContainEqual(expect.objectContaining({ path: 'body.reports' }));
    // The worker routes parse JSON with JSON.parse alone: a prototype key is refused by the strict schemas, and a
    // body that is not JSON is a 400 like any other bad body.
    const proto = await call(
      tokens.macA,
      'POST',
      `/v1/worker/runs/${id}/reports`,
      `{"reports":[{"kind":"logs","body":{"attempt":1,"offset":0,"bytes":2,"lines":[{"seq":1,"stream":"stdout","text":"x","at":1,"__proto__":{"admin":true}}]}}]}`,
      { 'content-type': 'application/json' },
    );
    expect(proto.statusCode, proto.body).toBe(400);
    expect(proto.json().issues[0].path).toBe('body.reports.0.body.lines.0');
    const notJson = await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/reports`, '{"reports": [', {
      'content-type': 'application/json',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json()).toMatchObject({ message: expect.stringContaining('not valid JSON') });
    expect(await logs(id)).toBe('');
  });
});
