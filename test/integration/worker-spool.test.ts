// The worker's spool against a real control-plane process: reports made while the control plane is down (and
// across a restart of the worker's own process) reach it in order once it is back, each stored exactly once.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  type ControlPlaneClient,
  createControlPlaneClient,
} from '../../src/worker/remote/control-plane-client.js';
import { ReportSpool, type SpoolLog } from '../../src/worker/remote/report-spool.js';
import { reportBatchKey, spoolSender } from '../../src/worker/remote/spool-transport.js';
import { sftRun } from '../helpers/chaos.js';
import { type ControlPlaneProcess, startControlPlane } from '../helpers/control-plane-process.js';
import { waitFor } from '../helpers/wait-for.js';

let cp: ControlPlaneProcess;
let client: ControlPlaneClient;
const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-spool-'));
const quiet = { warn: () => undefined, error: () => undefined };

beforeAll(async () => {
  cp = await startControlPlane();
  const w = await cp.http<{ token: string }>('POST', '/v1/workers', { name: 'mbp-spool' });
  client = createControlPlaneClient(cp.url, w.json.token);
}, 120_000);
afterAll(async () => {
  client.close();
  await cp.cleanup();
  fs.rmSync(spoolDir, { recursive: true, force: true });
});

/** Reports per call the spools of this file made. */
const calls: number[] = [];

function openSpool(key: string, log: SpoolLog = quiet) {
  const send = spoolSender(client);
  return new ReportSpool({
    dir: spoolDir,
    key,
    log,
    retryMinMs: 50,
    retryMaxMs: 300,
    send: (reports) => {
      calls.push(reports.length);
      return send(reports);
    },
    batchKey: reportBatchKey,
  });
}

describe('report spool', () => {
  it('the control plane is killed mid-run and the worker restarts while it is down: every line and point lands once, in order', async () => {
    const created = await cp.http<{ id: string }>('POST', '/v1/runs', sftRun(50));
    expect(created.status, created.text).toBe(201);
    const runId = created.json.id;
    const start = await client.json<{
      outcome: string;
      attempt: number;
      log: { offset: number; seq: number };
    }>('POST', '/v1/worker/attempts', { runId, deliveryId: randomUUID() });
    expect(start).toMatchObject({ outcome: 'started', attempt: 1, log: { offset: 0, seq: 0 } });
    const key = `${runId}.1`;
    let spool = openSpool(key);
    let offset = 0;
    let seq = 0;
    const expected: string[] = [];
    const report = (i: number) => {
      const lines = Array.from({ length: 10 }, (_, j) => ({
        seq: ++seq,
        stream: 'stdout' as const,
        text: `Iter ${i}: line ${j} ünïcode`,
        at: Date.now(),
      }));
      const bytes = lines.reduce((b, l) => b + Buffer.byteLength(l.text) + 1, 0);
      spool.enqueue({
        method: 'POST',
        path: `/v1/worker/runs/${runId}/logs`,
        body: { attempt: 1, offset, bytes, lines, progress: { progressIteration: i } },
      });
      offset += bytes;
      expected.push(...lines.map((l) => l.text));
      spool.enqueue({
        method: 'POST',
        path: `/v1/worker/runs/${runId}/metrics`,
        body: { attempt: 1, points: [{ iteration: i, split: 'train', name: 'loss', value: 3 - i / 100 }] },
      });
    };
    for (let i = 1; i <= 20; i++) report(i);
    expect(await spool.drained(20_000)).toBe(true);
    await cp.kill();
    calls.length = 0;
    for (let i = 21; i <= 35; i++) report(i);
    await waitFor(() => spool.lastFailure === 'retry', { what: 'the spool to notice the outage' });
    expect(spool.pending).toBeGreaterThan(0);
    // The worker process goes away too; a new one picks up the spool from disk.
    await spool.close();
    expect(ReportSpool.leftovers(spoolDir)).toContain(key);
    spool = openSpool(key);
    for (let i = 36; i <= 50; i++) report(i);
    await cp.start();
    expect(await spool.drained(30_000)).toBe(true);
    // The backlog (30 log chunks and 30 metric batches) went in a few calls, not one per report.
    expect(Math.max(...calls)).toBeGreaterThan(10);
    spool.enqueue({
      method: 'POST',
      path: `/v1/worker/runs/${runId}/finish`,
      body: { attempt: 1, outcome: 'succeeded', reason: 'trainer exited 0 and wrote adapters.safetensors' },
    });
    expect(await spool.drained(10_000)).toBe(true);
    await spool.close();

    // Replaying the whole spool again (a worker that lost its position) changes nothing.
    fs.writeFileSync(path.join(spoolDir, `${key}.pos`), '0');
    spool = openSpool(key);
    expect(await spool.drained(30_000)).toBe(true);
    await spool.finish();
    expect(ReportSpool.leftovers(spoolDir)).not.toContain(key);

    const log = await cp.http('GET', `/v1/runs/${runId}/logs`);
    expect(log.text).toBe(`${expected.join('\n')}\n`);
    const metrics = await cp.http<{ points: { iteration: number }[] }>(
      'GET',
      `/v1/runs/${runId}/metrics?name=loss&split=train`,
    );
    expect(metrics.json.points.map((p) => p.iteration)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const run = await cp.http<{
      status: string;
      logLines: number;
      logBytes: number;
      attempts: unknown[];
      events: { toStatus: string }[];
    }>('GET', `/v1/runs/${runId}`);
    expect(run.json).toMatchObject({ status: 'succeeded', logLines: 500, logBytes: offset });
    expect(run.json.attempts).toHaveLength(1);
    expect(run.json.events.filter((e) => e.toStatus === 'succeeded')).toHaveLength(1);
  }, 240_000);

  it('a batch the control plane refuses is resent report by report: the good ones land once, only the bad one is skipped', async () => {
    const created = await cp.http<{ id: string }>('POST', '/v1/runs', sftRun(10));
    const runId = created.json.id;
    await client.json('POST', '/v1/worker/attempts', { runId, deliveryId: randomUUID() });
    const errors: string[] = [];
    const spool = openSpool(`${runId}.1`, {
      warn: () => undefined,
      error: (_o, msg) => void errors.push(msg),
    });
    const lines = (from: number, texts: string[]) =>
      texts.map((text, i) => ({ seq: from + i, stream: 'stdout' as const, text, at: 1 }));
    const logs = (offset: number, texts: string[], from: number) => ({
      method: 'POST' as const,
      path: `/v1/worker/runs/${runId}/logs`,
      body: {
        attempt: 1,
        offset,
        bytes: texts.reduce((b, t) => b + t.length + 1, 0),
        lines: lines(from, texts),
      },
    });
    calls.length = 0;
    spool.enqueue(logs(0, ['one', 'two'], 1));
    spool.enqueue(logs(500, ['far ahead'], 9)); // a gap: refused for good
    spool.enqueue(logs(8, ['three'], 3));
    spool.enqueue({
      method: 'POST',
      path: `/v1/worker/runs/${runId}/metrics`,
      body: { attempt: 1, points: [{ iteration: 1, split: 'train', name: 'loss', value: 2 }] },
    });
    expect(await spool.drained(20_000)).toBe(true);
    await spool.finish();
    expect(calls).toEqual([4, 1, 1, 1, 1]);
    expect(errors).toEqual(['the control plane refused a report; skipping it']);
    expect((await cp.http('GET', `/v1/runs/${runId}/logs`)).text).toBe('one\ntwo\nthree\n');
    const metrics = await cp.http<{ points: unknown[] }>(
      'GET',
      `/v1/runs/${runId}/metrics?name=loss&split=train`,
    );
    expect(metrics.json.points).toHaveLength(1);
  });

  it('a report of a superseded attempt makes the spool stale and is dropped', async () => {
    const created = await cp.http<{ id: string }>('POST', '/v1/runs', sftRun(10));
    const runId = created.json.id;
    await client.json('POST', '/v1/worker/attempts', { runId, deliveryId: randomUUID() });
    let stale: string | undefined;
    const spool = new ReportSpool({
      dir: spoolDir,
      key: `${runId}.9`,
      log: quiet,
      send: spoolSender(client),
      batchKey: reportBatchKey,
      onStale: (e) => (stale = e.message),
    });
    spool.enqueue({
      method: 'POST',
      path: `/v1/worker/runs/${runId}/metrics`,
      body: { attempt: 9, points: [] },
    });
    expect(await spool.drained(10_000)).toBe(false);
    expect(stale).toContain('stale attempt');
    await spool.finish();
    expect(ReportSpool.leftovers(spoolDir)).not.toContain(`${runId}.9`);
  });
});
