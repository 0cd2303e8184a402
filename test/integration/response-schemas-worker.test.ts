// The worker routes (/v1/worker/*, worker token only) declare their 2xx answers too: a worker's whole round (who
// am I, dataset by hash, attempt start, logs, metrics, blob up and down, artifact, control, event, finish, a
// transition, worker errors) is called with a real worker token, each answer checked by the test app against its
// route's schema (checkResponses) and parsed again here with the contract's schemas.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';

import { folderTarStream } from '../../src/artifacts/artifact-files.js';
import { WorkerCredentialView } from '../../src/contract/health.js';
import {
  JobArtifactAnswer,
  JobLogAnswer,
  JobStartOutcome,
  JobState,
} from '../../src/contract/job-protocol.js';
import {
  ControlAnswer,
  DatasetManifest,
  LogChunkAnswer,
  MetricBatchAnswer,
  RecordedArtifact,
  RecordedEvent,
  ReportBatchAnswer,
  RunInputs,
  RunState,
  StartOutcome,
  StoredBlob,
  TransitionAnswer,
  WorkerErrorAnswer,
} from '../../src/contract/worker-protocol.js';
import { insertJobs } from '../../src/db/jobs-repository.js';
import { insertRun } from '../../src/db/runs-repository.js';
import { multipart } from '../helpers/multipart.js';
import { minimalNewRun } from '../helpers/temp-db.js';
import { createTestEnv, type TestEnv } from '../helpers/test-env.js';

let env: TestEnv;
let token: string;
let spec: OpenAPIV3_1.Document;
/** "METHOD /path/{param}" of every answer checked here. */
const exercised = new Set<string>();

beforeAll(async () => {
  env = await createTestEnv();
  const created = await env.app.inject({
    method: 'POST',
    url: '/v1/workers',
    payload: { name: 'mac-schemas' },
  });
  token = created.json<{ token: string }>().token;
  spec = (await env.app.inject({ method: 'GET', url: '/docs/json' })).json();
}, 60_000);
afterAll(async () => {
  await env.cleanup();
});

let n = 0;
function newRun(): string {
  const id = `run_wschema${++n}`;
  const runDir = path.join(env.dataDir, 'runs', id);
  const base = minimalNewRun(id, { runDir, adapterPath: path.join(runDir, 'adapters') });
  insertRun(env.db, { ...base, request: { ...base.request, iters: 30 } });
  return id;
}

/** Calls a worker route with the worker's token, expects a 2xx and parses the body with `schema` (null: bytes). */
async function call<T extends z.ZodType>(
  route: string,
  url: string,
  schema: T | null,
  opts: { payload?: unknown; headers?: Record<string, string>; status?: number[] } = {},
): Promise<{ body: z.infer<T>; raw: Buffer }> {
  const [method] = route.split(' ') as ['GET' | 'POST' | 'PUT'];
  const res = await env.app.inject({
    method,
    url,
    payload: opts.payload as string,
    headers: { authorization: `Bearer ${token}`, ...opts.headers },
  });
  expect(opts.status ?? [200], `${route}: ${res.body}`).toContain(res.statusCode);
  exercised.add(route);
  if (schema === null) return { body: undefined as z.infer<T>, raw: res.rawPayload };
  const parsed = schema.safeParse(res.json());
  expect(parsed.success ? [] : parsed.error.issues, route).toEqual([]);
  return { body: parsed.data as z.infer<T>, raw: res.rawPayload };
}

describe('the answers of the worker routes match their schemas', { timeout: 60_000 }, () => {
  it('a worker round: identity, dataset, attempt, reports, files, finish', async () => {
    const me = await call('GET /v1/worker/me', '/v1/worker/me', WorkerCredentialView);
    expect(me.body.name).toBe('mac-schemas');

    const train = '{"text": "a"}\n{"text": "b"}\n';
    const up = await env.app.inject({
      method: 'POST',
      url: '/v1/datasets',
      ...multipart([{ name: 'train', filename: 'train.jsonl', content: train }]),
    });
    const sha = up.json<{ sha256: string }>().sha256;
    const manifest = await call(
      'GET /v1/worker/datasets/{sha}',
      `/v1/worker/datasets/${sha}`,
      DatasetManifest,
    );
    expect(manifest.body.files).toEqual([{ file: 'train.jsonl', bytes: train.length }]);
    const file = await call(
      'GET /v1/worker/datasets/{sha}/{file}',
      `/v1/worker/datasets/${sha}/train.jsonl`,
      null,
    );
    expect(file.raw.toString()).toBe(train);

    const id = newRun();
    const base = `/v1/worker/runs/${id}`;
    const inputs = await call('GET /v1/worker/runs/{id}/inputs', `${base}/inputs`, RunInputs);
    expect(inputs.body.status).toBe('queued');
    const start = await call('POST /v1/worker/attempts', '/v1/worker/attempts', StartOutcome, {
      payload: { runId: id, deliveryId: randomUUID() },
    });
    expect(start.body).toMatchObject({ outcome: 'started', attempt: 1 });
    const logs = await call('POST /v1/worker/runs/{id}/logs', `${base}/logs`, LogChunkAnswer, {
      payload: { attempt: 1, offset: 0, bytes: 4, lines: [{ seq: 1, stream: 'stdout', text: 'one', at: 1 }] },
    });
    expect(logs.body).toEqual({ accepted: 4, duplicate: false });
    const metrics = await call('POST /v1/worker/runs/{id}/metrics', `${base}/metrics`, MetricBatchAnswer, {
      payload: {
        attempt: 1,
        points: [
          { iteration: 10, split: 'train', name: 'loss', value: 2.5 },
          { iteration: 10, split: 'val', name: 'loss', value: null },
        ],
      },
    });
    expect(metrics.body).toMatchObject({ stored: 2, cancel: false, stop: null });
    const batch = await call('POST /v1/worker/runs/{id}/reports', `${base}/reports`, ReportBatchAnswer, {
      payload: {
        reports: [
          {
            kind: 'logs',
            body: {
              attempt: 1,
              offset: 4,
              bytes: 4,
              lines: [{ seq: 2, stream: 'stdout', text: 'two', at: 1 }],
            },
          },
          {
            kind: 'metrics',
            body: { attempt: 1, points: [{ iteration: 20, split: 'train', name: 'loss', value: 2 }] },
          },
        ],
      },
    });
    expect(batch.body).toMatchObject({ accepted: 8, stored: 1, duplicates: 0, cancel: false, stop: null });

    const bytes = Buffer.from(`checkpoint of ${id}`);
    const blobSha = createHash('sha256').update(bytes).digest('hex');
    const octet = { 'content-type': 'application/octet-stream' };
    for (const status of [201, 200]) {
      const stored = await call('PUT /v1/worker/blobs/{sha}', `/v1/worker/blobs/${blobSha}`, StoredBlob, {
        payload: bytes,
        headers: octet,
        status: [status],
      });
      expect(stored.body).toEqual({ sha256: blobSha, bytes: bytes.length });
    }
    const down = await call('GET /v1/worker/blobs/{sha}', `/v1/worker/blobs/${blobSha}`, null);
    expect(down.raw.equals(bytes)).toBe(true);
    const record = {
      attempt: 1,
      name: '0000020_adapters.safetensors',
      kind: 'checkpoint',
      iteration: 20,
      sha256: blobSha,
      bytes: bytes.length,
    };
    await call('POST /v1/worker/runs/{id}/artifacts', `${base}/artifacts`, RecordedArtifact, {
      payload: record,
    });

    const control = await call(
      'GET /v1/worker/runs/{id}/control',
      `${base}/control?attempt=1`,
      ControlAnswer,
    );
    expect(control.body).toEqual({ status: 'running', attempt: 1, cancel: false, stop: null });
    await call('POST /v1/worker/runs/{id}/events', `${base}/events`, RecordedEvent, {
      payload: { attempt: 1, message: 'the log file cannot be written' },
    });
    const finish = await call('POST /v1/worker/runs/{id}/finish', `${base}/finish`, RunState, {
      payload: { attempt: 1, outcome: 'succeeded', reason: 'trainer exited 0', checkpoints: [record.name] },
    });
    expect(finish.body).toMatchObject({ status: 'succeeded', attempt: 1 });
  });

  it('a transition the worker asks for, and worker errors on a run and on a run that is gone', async () => {
    const failed = newRun();
    const t = await call(
      'POST /v1/worker/runs/{id}/transition',
      `/v1/worker/runs/${failed}/transition`,
      TransitionAnswer,
      { payload: { attempt: 0, from: ['queued'], to: 'failed', reason: 'preflight', error: 'no mlx' } },
    );
    expect(t.body).toEqual({ status: 'failed', attempt: 0 });

    const id = newRun();
    await call('POST /v1/worker/attempts', '/v1/worker/attempts', StartOutcome, {
      payload: { runId: id, deliveryId: randomUUID() },
    });
    const errored = await call(
      'POST /v1/worker/runs/{id}/error',
      `/v1/worker/runs/${id}/error`,
      WorkerErrorAnswer,
      {
        payload: { attempt: 1, message: 'the worker could not read its spool', permanent: true },
      },
    );
    expect(errored.body).toMatchObject({ status: 'failed', attempt: 1 });
    const gone = await call(
      'POST /v1/worker/runs/{id}/error',
      '/v1/worker/runs/run_never_made/error',
      WorkerErrorAnswer,
      { payload: { attempt: null, message: 'x' } },
    );
    expect(gone.body.status).toBe('gone');
  });

  it('a follow-up job round: start, log, artifact (a folder as its tar), control, finish, the fused model of the job before', async () => {
    const runId = newRun();
    const runDir = path.join(env.dataDir, 'runs', runId);
    const jobDir = (id: string) => path.join(runDir, 'jobs', id);
    const [fuse, exported] = insertJobs(env.db, [
      { id: `job_f_${runId}`, runId, kind: 'fuse', options: {}, jobDir: jobDir(`job_f_${runId}`) },
      {
        id: `job_e_${runId}`,
        runId,
        kind: 'export',
        options: { format: 'mlx' },
        parentJobId: `job_f_${runId}`,
        jobDir: jobDir(`job_e_${runId}`),
      },
    ]);
    const base = `/v1/worker/jobs/${fuse!.id}`;
    const start = await call('POST /v1/worker/jobs/{id}/start', `${base}/start`, JobStartOutcome, {
      payload: { jobAttempt: 1 },
    });
    expect(start.body).toMatchObject({ outcome: 'started', job: { attempt: 1 }, logBytes: 0 });
    const log = await call('POST /v1/worker/jobs/{id}/logs', `${base}/logs`, JobLogAnswer, {
      payload: { attempt: 1, offset: 0, text: 'fused\n' },
    });
    expect(log.body).toEqual({ accepted: 6, duplicate: false });
    const made = path.join(env.dataDir, 'made', fuse!.id);
    fs.mkdirSync(made, { recursive: true });
    fs.writeFileSync(path.join(made, 'model.safetensors'), 'weights');
    const tar = Buffer.concat(await (await folderTarStream(made)).toArray());
    const sha = createHash('sha256').update(tar).digest('hex');
    await call('PUT /v1/worker/blobs/{sha}', `/v1/worker/blobs/${sha}`, StoredBlob, {
      payload: tar,
      headers: { 'content-type': 'application/octet-stream' },
      status: [200, 201],
    });
    const art = await call('POST /v1/worker/jobs/{id}/artifacts', `${base}/artifacts`, JobArtifactAnswer, {
      payload: {
        attempt: 1,
        kind: 'fused_model',
        rel: `fused/${fuse!.id}`,
        name: fuse!.id,
        isDir: true,
        sha256: sha,
        bytes: tar.length,
        verified: true,
      },
    });
    expect(art.body).toMatchObject({ path: path.join(runDir, 'fused', fuse!.id), sha256: sha });
    const control = await call('GET /v1/worker/jobs/{id}/control', `${base}/control?attempt=1`, JobState);
    expect(control.body).toMatchObject({ status: 'running', cancel: false, worker: 'mac-schemas' });
    const finish = await call('POST /v1/worker/jobs/{id}/finish', `${base}/finish`, JobState, {
      payload: { attempt: 1, outcome: 'succeeded', result: { verified: true } },
    });
    expect(finish.body.status).toBe('succeeded');
    const out = await call(
      'GET /v1/worker/jobs/{id}/parent-output',
      `/v1/worker/jobs/${exported!.id}/parent-output`,
      null,
    );
    expect(createHash('sha256').update(out.raw).digest('hex')).toBe(sha);
  });

  it('every documented worker route declares its 2xx answer and was exercised above', () => {
    const routes = Object.entries(spec.paths ?? {})
      .filter(([url]) => url.startsWith('/v1/worker/'))
      .flatMap(([url, item]) =>
        Object.entries(item ?? {}).map(([method, op]) => ({
          route: `${method.toUpperCase()} ${url}`,
          op: op as OpenAPIV3_1.OperationObject,
        })),
      );
    expect(routes.length).toBeGreaterThan(10);
    const undeclared = routes.filter(
      ({ op }) =>
        !Object.entries(op.responses ?? {}).some(
          ([code, r]) =>
            /^2\d\d$/.test(code) &&
            Object.values((r as OpenAPIV3_1.ResponseObject).content ?? {}).some(
              (c) => c.schema !== undefined,
            ),
        ),
    );
    expect(undeclared.map((r) => r.route)).toEqual([]);
    expect(routes.map((r) => r.route).filter((r) => !exercised.has(r))).toEqual([]);
  });
});
