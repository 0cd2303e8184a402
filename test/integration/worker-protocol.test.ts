// The reporting protocol over HTTP: attempts start once per delivery, log chunks and metric batches are stored
// once however often they are sent, blobs are checked by hash, finish is recorded once, and a worker whose
// attempt is not the current one is refused.
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { insertRun } from '../../src/db/runs-repository.js';
import { multipart } from '../helpers/multipart.js';
import { minimalNewRun } from '../helpers/temp-db.js';
import { createTestEnv, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

let env: TestEnv;
let tokenA: string;
let tokenB: string;
beforeAll(async () => {
  env = await createTestEnv();
  const mk = async (name: string) =>
    (await env.app.inject({ method: 'POST', url: '/v1/workers', payload: { name } })).json<{
      token: string;
    }>().token;
  tokenA = await mk('mac-a');
  tokenB = await mk('mac-b');
});
afterAll(async () => {
  await env.cleanup();
});

let n = 0;
function newRun(iters = 30) {
  const id = `run_proto${++n}`;
  // Its folder inside the env's DATA_DIR: uploaded checkpoints are placed there (never the working directory).
  const runDir = path.join(env.dataDir, 'runs', id);
  const base = minimalNewRun(id, { runDir, adapterPath: path.join(runDir, 'adapters') });
  insertRun(env.db, { ...base, request: { ...base.request, iters } });
  return id;
}

function call(
  token: string,
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  return env.app.inject({
    method,
    url,
    payload: payload as string,
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
}

const start = (token: string, runId: string, deliveryId = randomUUID()) =>
  call(token, 'POST', '/v1/worker/attempts', { runId, deliveryId });
const line = (seq: number, text: string) => ({ seq, stream: 'stdout' as const, text, at: 1 });
const chunk = (attempt: number, offset: number, lines: ReturnType<typeof line>[]) => ({
  attempt,
  offset,
  bytes: lines.reduce((b, l) => b + Buffer.byteLength(l.text) + 1, 0),
  lines,
});
const logs = async (id: string) => (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}/logs` })).body;
const count = (sql: string, id: string) => env.db.$client.prepare(sql).pluck().get(id) as number;

describe('attempt start', () => {
  it('a delivery asking twice gets the same attempt; another delivery of the same job is told busy', async () => {
    const id = newRun();
    const d = randomUUID();
    const first = await start(tokenA, id, d);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({
      outcome: 'started',
      runId: id,
      attempt: 1,
      log: { offset: 0, seq: 0 },
      resume: null,
    });
    expect((await start(tokenA, id, d)).json()).toMatchObject({ outcome: 'started', attempt: 1 });
    const dup = await start(tokenB, id);
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
    expect((await start(tokenA, id)).json()).toEqual({ outcome: 'final', status: 'cancelled' });
    const id2 = newRun();
    env.db.$client.prepare('UPDATE runs SET cancel_requested_at = 1 WHERE id = ?').run(id2);
    expect((await start(tokenA, id2)).json()).toEqual({ outcome: 'final', status: 'cancelled' });
  });
});

describe('reports of a running attempt', () => {
  it('log chunks by byte offset: a repeat changes nothing, a gap is refused, the log holds every line once', async () => {
    const id = newRun();
    await start(tokenA, id);
    const a = chunk(1, 0, [line(1, 'one'), line(2, 'two')]);
    const r1 = await call(tokenA, 'POST', `/v1/worker/runs/${id}/logs`, a);
    expect(r1.json()).toEqual({ accepted: 8, duplicate: false });
    expect((await call(tokenA, 'POST', `/v1/worker/runs/${id}/logs`, a)).json()).toEqual({
      accepted: 8,
      duplicate: true,
    });
    const gap = await call(tokenA, 'POST', `/v1/worker/runs/${id}/logs`, chunk(1, 20, [line(5, 'five')]));
    expect(gap.statusCode).toBe(409);
    expect(gap.json().message).toContain('holds 8 bytes');
    const b = {
      ...chunk(1, 8, [line(3, 'three')]),
      progress: { progressIteration: 3, progressTotal: 30, latestLoss: 1.5 },
    };
    expect((await call(tokenA, 'POST', `/v1/worker/runs/${id}/logs`, b)).json()).toEqual({
      accepted: 14,
      duplicate: false,
    });
    expect((await call(tokenA, 'POST', `/v1/worker/runs/${id}/logs`, a)).json().duplicate).toBe(true);
    expect(await logs(id)).toBe('one\ntwo\nthree\n');
    const run = (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}` })).json();
    expect(run).toMatchObject({ logBytes: 14, logLines: 3 });
    expect(run.progress).toMatchObject({ iteration: 3, total: 30, latestLoss: 1.5 });
  });

  it('metric batches: the same batch twice is stored once', async () => {
    const id = newRun();
    await start(tokenA, id);
    const batch = {
      attempt: 1,
      points: [
        { iteration: 10, split: 'train', name: 'loss', value: 2.5 },
        { iteration: 10, split: 'val', name: 'loss', value: null },
      ],
    };
    for (let i = 0; i < 3; i++) {
      const r = await call(tokenA, 'POST', `/v1/worker/runs/${id}/metrics`, batch);
      expect(r.json()).toMatchObject({ stored: 2, cancel: false });
    }
    expect(count('SELECT count(*) FROM metrics WHERE run_id = ?', id)).toBe(2);
  });

  it('another worker, or a superseded attempt, is refused with 409 stale_attempt', async () => {
    const id = newRun();
    await start(tokenA, id);
    const other = await call(tokenB, 'POST', `/v1/worker/runs/${id}/logs`, chunk(1, 0, [line(1, 'x')]));
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({
      error: 'stale_attempt',
      message: expect.stringContaining('belongs to worker mac-a'),
    });
    const wrong = await call(tokenA, 'POST', `/v1/worker/runs/${id}/metrics`, { attempt: 2, points: [] });
    expect(wrong.json().error).toBe('stale_attempt');
  });

  it('the control poll says cancel once a cancel is asked for', async () => {
    const id = newRun();
    await start(tokenA, id);
    expect((await call(tokenA, 'GET', `/v1/worker/runs/${id}/control?attempt=1`)).json()).toEqual({
      status: 'running',
      attempt: 1,
      cancel: false,
      stop: null,
    });
    expect((await env.app.inject({ method: 'POST', url: `/v1/runs/${id}/cancel` })).statusCode).toBe(202);
    expect((await call(tokenA, 'GET', `/v1/worker/runs/${id}/control?attempt=1`)).json()).toMatchObject({
      cancel: true,
      stop: { stopReason: 'cancelled' },
    });
  });
});

describe('blobs, artifacts and finish', () => {
  it('a checkpoint goes up by hash, is recorded, and the next attempt resumes from it; finish is recorded once', async () => {
    const id = newRun(30);
    await start(tokenA, id);
    const bytes = Buffer.from(`checkpoint bytes of ${id} at iteration 20`);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const record = {
      attempt: 1,
      name: '0000020_adapters.safetensors',
      kind: 'checkpoint',
      iteration: 20,
      sha256: sha,
      bytes: bytes.length,
    };
    const early = await call(tokenA, 'POST', `/v1/worker/runs/${id}/artifacts`, record);
    expect(early.statusCode).toBe(409);
    const octet = { 'content-type': 'application/octet-stream' };
    const bad = await call(tokenA, 'PUT', `/v1/worker/blobs/${'0'.repeat(64)}`, bytes, octet);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0]).toMatchObject({ path: 'sha256', message: expect.stringContaining(sha) });
    expect((await call(tokenA, 'PUT', `/v1/worker/blobs/${sha}`, bytes, octet)).statusCode).toBe(201);
    expect((await call(tokenA, 'PUT', `/v1/worker/blobs/${sha}`, bytes, octet)).statusCode).toBe(200);
    expect((await call(tokenA, 'POST', `/v1/worker/runs/${id}/artifacts`, record)).statusCode).toBe(200);
    const down = await call(tokenB, 'GET', `/v1/worker/blobs/${sha}`);
    expect(down.rawPayload.equals(bytes)).toBe(true);
    // On the control plane it is one of the run's artifacts, downloadable like a local run's.
    const listed = (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}/artifacts` })).json<{
      items: { id: string; kind: string; sha256: string }[];
    }>().items;
    expect(listed).toEqual([expect.objectContaining({ kind: 'checkpoint', sha256: sha })]);
    const file = await env.app.inject({ method: 'GET', url: `/v1/artifacts/${listed[0]!.id}/download` });
    expect(file.rawPayload.equals(bytes)).toBe(true);

    const fin = {
      attempt: 1,
      outcome: 'interrupted',
      reason: 'worker shut down',
      stopReason: 'shutdown',
      checkpoints: [record.name],
    };
    expect((await call(tokenA, 'POST', `/v1/worker/runs/${id}/finish`, fin)).json()).toMatchObject({
      status: 'interrupted',
      attempt: 1,
    });
    expect((await call(tokenA, 'POST', `/v1/worker/runs/${id}/finish`, fin)).json()).toMatchObject({
      status: 'interrupted',
      attempt: 1,
    });
    expect(count("SELECT count(*) FROM run_events WHERE run_id = ? AND to_status = 'interrupted'", id)).toBe(
      1,
    );
    // A report of the finished attempt that was not sent before is refused: the attempt is over.
    const late = { attempt: 1, points: [{ iteration: 21, split: 'train', name: 'loss', value: 1 }] };
    expect((await call(tokenA, 'POST', `/v1/worker/runs/${id}/metrics`, late)).json().error).toBe(
      'stale_attempt',
    );

    // The interrupted run resumes after its resume delay (the retry policy's notBefore): busy until then.
    const next = await waitFor(
      async () => {
        const r = (await start(tokenB, id)).json<{ outcome: string }>();
        return r.outcome === 'started' ? r : null;
      },
      { what: 'the resume delay to pass' },
    );
    expect(next).toMatchObject({
      outcome: 'started',
      attempt: 2,
      resume: { iteration: 20, total: 30, name: record.name, sha256: sha },
    });
    const done = {
      attempt: 2,
      outcome: 'succeeded',
      reason: 'trainer exited 0',
      adapterFile: 'adapters/adapters.safetensors',
    };
    expect((await call(tokenB, 'POST', `/v1/worker/runs/${id}/finish`, done)).json()).toMatchObject({
      status: 'succeeded',
      attempt: 2,
    });
    const attempts = (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}` })).json().attempts;
    expect(
      attempts.map((a: { worker: string; outcome: string; resumedFrom: string | null }) => [
        a.worker,
        a.outcome,
        a.resumedFrom,
      ]),
    ).toEqual([
      ['mac-a', 'interrupted', null],
      ['mac-b', 'succeeded', expect.stringMatching(new RegExp(`/${record.name}$`))],
    ]);
  });

  it('a status change the worker asks for is compare-and-set and idempotent', async () => {
    const id = newRun();
    const t = {
      attempt: 0,
      from: ['queued'],
      to: 'failed',
      reason: 'preflight: mlx-lm-lora missing',
      error: 'no mlx',
      stopReason: 'preflight',
    };
    expect((await call(tokenA, 'POST', `/v1/worker/runs/${id}/transition`, t)).json()).toEqual({
      status: 'failed',
      attempt: 0,
    });
    expect((await call(tokenA, 'POST', `/v1/worker/runs/${id}/transition`, t)).json()).toEqual({
      status: 'failed',
      attempt: 0,
    });
    const again = await call(tokenA, 'POST', `/v1/worker/runs/${id}/transition`, { ...t, to: 'cancelled' });
    expect(again.statusCode).toBe(409);
  });
});

describe('datasets by hash', () => {
  it('a worker reads an uploaded dataset: its files and sizes, then each file', async () => {
    const train = '{"text": "a"}\n{"text": "b"}\n';
    const up = await env.app.inject({
      method: 'POST',
      url: '/v1/datasets',
      ...multipart([{ name: 'train', filename: 'train.jsonl', content: train }]),
    });
    expect(up.statusCode, up.body).toBe(201);
    const sha = up.json<{ sha256: string }>().sha256;
    expect((await call(tokenA, 'GET', `/v1/worker/datasets/${sha}`)).json()).toEqual({
      sha256: sha,
      files: [{ file: 'train.jsonl', bytes: train.length }],
    });
    expect((await call(tokenA, 'GET', `/v1/worker/datasets/${sha}/train.jsonl`)).body).toBe(train);
    expect((await call(tokenA, 'GET', `/v1/worker/datasets/${sha}/valid.jsonl`)).statusCode).toBe(404);
    expect(
      (await env.app.inject({ method: 'GET', url: `/v1/worker/datasets/${sha}/train.jsonl` })).statusCode,
    ).toBe(401);
  });
});

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
    await start(tokenA, id);
    const first = logChunks(1, 3, 5, 0);
    const batch1 = [first[0]!, metrics(1), first[1]!, metrics(2), first[2]!];
    const r1 = await call(tokenA, 'POST', `/v1/worker/runs/${id}/reports`, { reports: batch1 });
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
    const r2 = await call(tokenA, 'POST', `/v1/worker/runs/${id}/reports`, { reports: batch1 });
    expect(r2.json()).toMatchObject({ accepted: held, duplicates: 3 });
    // A batch overlapping what is held (a worker that lost its position part-way): only the new lines go in.
    const more = logChunks(16, 2, 5, held);
    const r3 = await call(tokenA, 'POST', `/v1/worker/runs/${id}/reports`, {
      reports: [first[1]!, first[2]!, metrics(2), more[0]!, metrics(3), more[1]!],
    });
    expect(r3.statusCode, r3.body).toBe(200);
    expect(r3.json()).toMatchObject({ accepted: more[1]!.body.offset + more[1]!.body.bytes, duplicates: 2 });
    // One by one after the batch: still each once.
    expect((await call(tokenA, 'POST', `/v1/worker/runs/${id}/logs`, more[0]!.body)).json().duplicate).toBe(
      true,
    );

    expect(await logs(id)).toBe(expectedLog(25));
    const run = (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}` })).json();
    expect(run).toMatchObject({ logLines: 25, logBytes: more[1]!.body.offset + more[1]!.body.bytes });
    expect(count('SELECT count(*) FROM log_lines WHERE run_id = ?', id)).toBe(25);
    expect(count('SELECT count(*) FROM metrics WHERE run_id = ?', id)).toBe(3);
  });

  it('a batch with a gap is refused whole (409) and stores nothing; each report alone gets its own verdict', async () => {
    const id = newRun();
    await start(tokenA, id);
    const chunks = logChunks(1, 3, 4, 0);
    const gap = await call(tokenA, 'POST', `/v1/worker/runs/${id}/reports`, {
      reports: [chunks[0]!, metrics(1), chunks[2]!],
    });
    expect(gap.statusCode).toBe(409);
    expect(gap.json().message).toContain('log gap');
    expect(await logs(id)).toBe('');
    expect(count('SELECT count(*) FROM metrics WHERE run_id = ?', id)).toBe(0);
    expect((await call(tokenA, 'POST', `/v1/worker/runs/${id}/logs`, chunks[0]!.body)).statusCode).toBe(200);
    expect(await logs(id)).toBe(expectedLog(4));
  });

  it('a batch from another worker or a superseded attempt is stale; a bad field is a 400 naming it', async () => {
    const id = newRun();
    await start(tokenA, id);
    const other = await call(tokenB, 'POST', `/v1/worker/runs/${id}/reports`, {
      reports: logChunks(1, 1, 2, 0),
    });
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ error: 'stale_attempt' });
    const wrong = await call(tokenA, 'POST', `/v1/worker/runs/${id}/reports`, {
      reports: [{ kind: 'metrics', body: { attempt: 2, points: [] } }],
    });
    expect(wrong.json().error).toBe('stale_attempt');
    const bad = await call(tokenA, 'POST', `/v1/worker/runs/${id}/reports`, {
      reports: [{ kind: 'logs', body: { attempt: 1, offset: -1, bytes: 0, lines: [] } }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues).toContainEqual(expect.objectContaining({ path: 'body.reports.0.body.offset' }));
    const empty = await call(tokenA, 'POST', `/v1/worker/runs/${id}/reports`, { reports: [] });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().issues).toContainEqual(expect.objectContaining({ path: 'body.reports' }));
  });
});
