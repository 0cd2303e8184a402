// Every route declares its 2xx answer with a zod schema (src/contract/), OpenAPI documents it, and the real answers
// of a real run (stand-in trainer, real worker, Redis and SQLite) match it: the test app checks each JSON answer
// against its route's schema (checkResponses) and this file parses them again with the contract's schemas.
import fs from 'node:fs';
import path from 'node:path';

import Fastify from 'fastify';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

import { createResponseSerializer } from '../../src/api/response-serializer.js';
import { DatasetList, DatasetReport, DatasetView, UploadedDataset } from '../../src/contract/datasets.js';
import {
  CreatedWorkerCredential,
  Health,
  Readiness,
  WorkerCredentialView,
  WorkerList,
} from '../../src/contract/health.js';
import {
  CreatedJob,
  EvaluateResult,
  JobDetail,
  JobView,
  RunArtifacts,
  RunJobs,
} from '../../src/contract/jobs.js';
import { MemoryCalibration } from '../../src/contract/memory.js';
import { MethodCatalogue } from '../../src/contract/methods.js';
import {
  CancelledRun,
  DryRun,
  RunDetail,
  RunList,
  RunMetrics,
  SubmittedRun,
} from '../../src/contract/runs.js';
import { SubmittedSweep, SweepCancel, SweepDetail, SweepList } from '../../src/contract/sweeps.js';
import { WebhookDeliveries, WebhookList, WebhookView } from '../../src/contract/webhooks.js';
import { sftRequest, waitJobFinal, waitRunFinal } from '../helpers/follow-up.js';
import { multipart } from '../helpers/multipart.js';
import { createTestEnv, TEST_DATA, type TestEnv } from '../helpers/test-env.js';

let env: TestEnv;
let spec: OpenAPIV3_1.Document;
/** "METHOD /path/{param}" of every answer checked here. */
const exercised = new Set<string>();

beforeAll(async () => {
  env = await createTestEnv();
  await env.startWorker();
  spec = (await env.app.inject({ method: 'GET', url: '/docs/json' })).json();
}, 60_000);
afterAll(async () => {
  await env.cleanup();
});

/** Calls a route, expects a 2xx status (a 500 would mean the answer broke its schema) and parses the body. */
async function call<T extends z.ZodType>(
  route: string,
  url: string,
  schema: T | null,
  opts: { payload?: unknown; headers?: Record<string, string>; status?: number[] } = {},
): Promise<z.infer<T>> {
  const [method] = route.split(' ') as ['GET' | 'POST' | 'DELETE'];
  const res = await env.app.inject({ method, url, payload: opts.payload as never, headers: opts.headers });
  expect(opts.status ?? [200, 201], `${route}: ${res.body}`).toContain(res.statusCode);
  exercised.add(route);
  if (schema === null) return undefined as z.infer<T>;
  const parsed = schema.safeParse(res.json());
  expect(parsed.success ? [] : parsed.error.issues, route).toEqual([]);
  return parsed.data as z.infer<T>;
}

describe('the answers of a real run match their schemas', { timeout: 180_000 }, () => {
  it('runs, metrics, logs, cancel, methods, datasets, health', async () => {
    const upload = multipart([
      {
        name: 'train.jsonl',
        filename: 'train.jsonl',
        content: fs.readFileSync(path.join(TEST_DATA, 'sft-chat', 'train.jsonl')),
      },
    ]);
    const dataset = await call('POST /v1/datasets', '/v1/datasets', UploadedDataset, upload);
    await call('GET /v1/datasets', '/v1/datasets', DatasetList);
    await call('GET /v1/datasets/{sha}', `/v1/datasets/${dataset.sha256}`, DatasetView);
    await call('POST /v1/datasets/validate', '/v1/datasets/validate', DatasetReport, {
      payload: { data: path.join(TEST_DATA, 'sft-chat'), method: 'sft', batch_size: 2 },
    });
    await call('GET /v1/methods', '/v1/methods', MethodCatalogue);
    await call('GET /healthz', '/healthz', Health);
    await call('GET /v1/memory/calibration', '/v1/memory/calibration', MemoryCalibration);
    await call('GET /readyz', '/readyz', Readiness);
    const worker = await call('POST /v1/workers', '/v1/workers', CreatedWorkerCredential, {
      payload: { name: 'mac-2', labels: ['studio'] },
    });
    const listed = await call('GET /v1/workers', '/v1/workers', WorkerList);
    expect(listed.registered.map((c) => c.name)).toEqual(['mac-2']);
    // The live worker's entry was parsed with WorkerView (the domain's entry with its view fields).
    expect(listed.items.map((w) => w.usable)).toEqual([true]);
    await call('DELETE /v1/workers/{id}', `/v1/workers/${worker.id}`, WorkerCredentialView);

    await call('POST /v1/runs', '/v1/runs?dryRun=true', DryRun, { payload: sftRequest() });
    const submitted = await call('POST /v1/runs', '/v1/runs', SubmittedRun, {
      payload: sftRequest({ tags: ['schemas'] }),
      headers: { 'idempotency-key': 'schemas-1' },
    });
    await call('POST /v1/runs', '/v1/runs', SubmittedRun, {
      payload: sftRequest({ tags: ['schemas'] }),
      headers: { 'idempotency-key': 'schemas-1' },
    });
    expect((await waitRunFinal(env, submitted.id)).status).toBe('succeeded');
    const detail = await call('GET /v1/runs/{id}', `/v1/runs/${submitted.id}`, RunDetail);
    expect(detail.latestMetrics.length).toBeGreaterThan(0);
    expect(detail.attempts).toHaveLength(1);
    await call('GET /v1/runs', '/v1/runs?tag=schemas', RunList);
    const metrics = await call('GET /v1/runs/{id}/metrics', `/v1/runs/${submitted.id}/metrics`, RunMetrics);
    expect(metrics.points.length).toBeGreaterThan(0);
    await call('GET /v1/runs/{id}/logs', `/v1/runs/${submitted.id}/logs`, null);

    // Cancelled before or while the worker takes it: 200 or 202, the same shape.
    const queued = await call('POST /v1/runs', '/v1/runs', SubmittedRun, {
      payload: sftRequest({ iters: 200 }),
    });
    await call('POST /v1/runs/{id}/cancel', `/v1/runs/${queued.id}/cancel`, CancelledRun, {
      status: [200, 202],
    });
    await waitRunFinal(env, queued.id);

    await call('DELETE /v1/datasets/{sha}', `/v1/datasets/${dataset.sha256}`, null, { status: [204] });
    await call('POST /logout', '/logout', null, { status: [204] });
  });

  it('sweeps: submit, list, detail, cancel', async () => {
    const body = {
      name: 'schemas',
      base: sftRequest({ iters: 4 }),
      grid: { learning_rate: [1e-5, 2e-5, 3e-5] },
      metric: { name: 'loss', goal: 'min' },
    };
    const sweep = await call('POST /v1/sweeps', '/v1/sweeps', SubmittedSweep, { payload: body });
    await call('GET /v1/sweeps', '/v1/sweeps', SweepList);
    await waitRunFinal(env, sweep.runs[0]!.runId);
    const detail = await call('GET /v1/sweeps/{id}', `/v1/sweeps/${sweep.id}`, SweepDetail);
    expect(detail.runs).toHaveLength(3);
    await call('POST /v1/sweeps/{id}/cancel', `/v1/sweeps/${sweep.id}/cancel`, SweepCancel, {
      status: [200],
    });
  });

  it('follow-up jobs and artifacts', async () => {
    const run = await call('POST /v1/runs', '/v1/runs', SubmittedRun, { payload: sftRequest() });
    expect((await waitRunFinal(env, run.id)).status).toBe('succeeded');
    const artifacts = await call('GET /v1/runs/{id}/artifacts', `/v1/runs/${run.id}/artifacts`, RunArtifacts);
    expect(artifacts.items.length).toBeGreaterThan(0);
    await call(
      'GET /v1/artifacts/{id}/download',
      `/v1/artifacts/${artifacts.items.find((a) => !a.isDir)!.id}/download`,
      null,
    );
    const job = await call('POST /v1/runs/{id}/jobs', `/v1/runs/${run.id}/jobs`, CreatedJob, {
      payload: { kind: 'evaluate' },
      status: [201],
    });
    await waitJobFinal(env, job.id);
    await call('GET /v1/runs/{id}/jobs', `/v1/runs/${run.id}/jobs`, RunJobs);
    const evaluated = await call('GET /v1/jobs/{id}', `/v1/jobs/${job.id}`, JobDetail);
    // The result as the pages and the CLI read it.
    expect(EvaluateResult.safeParse(evaluated.result).error?.issues ?? []).toEqual([]);
    await call('GET /v1/jobs/{id}/logs', `/v1/jobs/${job.id}/logs`, null);
    const second = await call('POST /v1/runs/{id}/jobs', `/v1/runs/${run.id}/jobs`, CreatedJob, {
      payload: { kind: 'evaluate' },
      status: [201],
    });
    const cancelled = await env.app.inject({ method: 'POST', url: `/v1/jobs/${second.id}/cancel` });
    // 200/202, or 409 when the job was quicker than the cancel; either way a 2xx parses.
    if (cancelled.statusCode !== 409) {
      expect([200, 202]).toContain(cancelled.statusCode);
      expect(JobView.safeParse(cancelled.json()).success).toBe(true);
      exercised.add('POST /v1/jobs/{id}/cancel');
    }
    await waitJobFinal(env, second.id);
  });

  it('webhooks: add, list, show, deliveries, delete', async () => {
    const hook = await call('POST /v1/webhooks', '/v1/webhooks', WebhookView, {
      payload: { url: 'http://127.0.0.1:9/hook', secret: 'a-secret-of-length' },
      status: [201],
    });
    await call('GET /v1/webhooks', '/v1/webhooks', WebhookList);
    await call('GET /v1/webhooks/{id}', `/v1/webhooks/${hook.id}`, WebhookView);
    await call('GET /v1/webhooks/{id}/deliveries', `/v1/webhooks/${hook.id}/deliveries`, WebhookDeliveries);
    await call('DELETE /v1/webhooks/{id}', `/v1/webhooks/${hook.id}`, null, { status: [204] });
  });

  it('every documented route declares its 2xx answer, and each one was exercised above', () => {
    const missing: string[] = [];
    const documented: string[] = [];
    for (const [url, item] of Object.entries(spec.paths ?? {})) {
      for (const [method, op] of Object.entries(item ?? {}) as [string, OpenAPIV3_1.OperationObject][]) {
        const route = `${method.toUpperCase()} ${url}`;
        documented.push(route);
        const ok = Object.entries(op.responses ?? {}).filter(([code]) => /^2\d\d$/.test(code));
        const declared = ok.some(
          ([code, r]) =>
            code === '204' ||
            Object.values((r as OpenAPIV3_1.ResponseObject).content ?? {}).some(
              (c) => c.schema !== undefined,
            ),
        );
        if (!declared) missing.push(route);
      }
    }
    expect(missing).toEqual([]);
    // POST /login answers 204 only with API_TOKEN set (test/integration/security-auth.test.ts); a job may end before
    // its cancel; the worker routes take a worker token and are called in response-schemas-worker.test.ts.
    const elsewhere = (r: string) =>
      r === 'POST /login' || r === 'POST /v1/jobs/{id}/cancel' || r.includes(' /v1/worker/');
    expect(documented.filter((r) => !exercised.has(r) && !elsewhere(r))).toEqual([]);
  });
});

describe('the check itself', () => {
  it('fails an answer outside its schema with a 500 when on, and sends it unchanged when off', async () => {
    const answers: Record<string, number> = {};
    for (const check of [true, false]) {
      const app = Fastify();
      app.setSerializerCompiler(createResponseSerializer({ check }));
      app.get('/x', { schema: { response: { 200: z.strictObject({ n: z.number() }) } } }, async () => ({
        n: 1,
        extra: true,
      }));
      const res = await app.inject({ method: 'GET', url: '/x' });
      answers[String(check)] = res.statusCode;
      if (!check) expect(res.json()).toEqual({ n: 1, extra: true });
      await app.close();
    }
    expect(answers).toEqual({ true: 500, false: 200 });
  });
});
