// Blobs, artifacts and finish over the worker protocol: a checkpoint goes up by hash and the next attempt resumes
// from it, finish is recorded once, and a status change the worker asks for is compare-and-set.
import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { waitFor } from '../helpers/wait-for.js';
import { useWorkerProtocolEnv } from '../helpers/worker-protocol-env.js';

const { env, tokens, newRun, call, start, count } = useWorkerProtocolEnv();

describe('blobs, artifacts and finish', () => {
  it('a checkpoint goes up by hash, is recorded, and the next attempt resumes from it; finish is recorded once', async () => {
    const id = newRun(30);
    await start(tokens.macA, id);
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
    const early = await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/artifacts`, record);
    expect(early.statusCode).toBe(409);
    const octet = { 'content-type': 'application/octet-stream' };
    const bad = await call(tokens.macA, 'PUT', `/v1/worker/blobs/${'0'.repeat(64)}`, bytes, octet);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0]).toMatchObject({ path: 'sha256', message: expect.stringContaining(sha) });
    expect((await call(tokens.macA, 'PUT', `/v1/worker/blobs/${sha}`, bytes, octet)).statusCode).toBe(201);
    expect((await call(tokens.macA, 'PUT', `/v1/worker/blobs/${sha}`, bytes, octet)).statusCode).toBe(200);
    expect((await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/artifacts`, record)).statusCode).toBe(200);
    const down = await call(tokens.macB, 'GET', `/v1/worker/blobs/${sha}`);
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
    expect((await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/finish`, fin)).json()).toMatchObject({
      status: 'interrupted',
      attempt: 1,
    });
    expect((await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/finish`, fin)).json()).toMatchObject({
      status: 'interrupted',
      attempt: 1,
    });
    expect(count("SELECT count(*) FROM run_events WHERE run_id = ? AND to_status = 'interrupted'", id)).toBe(
      1,
    );
    // A report of the finished attempt that was not sent before is refused: the attempt is over.
    const late = { attempt: 1, points: [{ iteration: 21, split: 'train', name: 'loss', value: 1 }] };
    expect((await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/metrics`, late)).json().error).toBe(
      'stale_attempt',
    );

    // The interrupted run resumes after its resume delay (the retry policy's notBefore): busy until then.
    const next = await waitFor(
      async () => {
        const r = (await start(tokens.macB, id)).json<{ outcome: string }>();
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
    expect((await call(tokens.macB, 'POST', `/v1/worker/runs/${id}/finish`, done)).json()).toMatchObject({
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
    expect((await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/transition`, t)).json()).toEqual({
      status: 'failed',
      attempt: 0,
    });
    expect((await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/transition`, t)).json()).toEqual({
      status: 'failed',
      attempt: 0,
    });
    const again = await call(tokens.macA, 'POST', `/v1/worker/runs/${id}/transition`, {
      ...t,
      to: 'cancelled',
    });
    expect(again.statusCode).toBe(409);
  });
});
