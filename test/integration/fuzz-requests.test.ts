// Property-based fuzzing of the JSON routes: thousands of generated hostile requests, never a 5xx, every 4xx
// machine-readable, and every field error naming a field the request has (or the route defines).
import path from 'node:path';

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { METHODS } from '../../src/domain/methods.js';
import {
  assertWellFormed,
  DATA_DIRS,
  enc,
  HF_MODEL,
  nastyString,
  nastyValue,
  OPTION_KEYS,
  queryString,
  runBody,
} from '../helpers/fuzz.js';
import { createTestEnv, TEST_DATA, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

let env: TestEnv;
let finishedRunId: string;
let requests = 0;
const statuses = new Map<number, number>();

beforeAll(async () => {
  env = await createTestEnv({ SUBMIT_RATE_PER_MIN: '100000000' });
  // One finished run, so id routes (metrics, logs with follow, cancel) also meet a run that exists.
  const worker = await env.startWorker();
  const res = await env.app.inject({
    method: 'POST',
    url: '/v1/runs',
    payload: {
      method: 'sft',
      model: HF_MODEL,
      data: path.join(TEST_DATA, 'sft-chat'),
      iters: 2,
      batch_size: 1,
    },
  });
  finishedRunId = res.json().id;
  await waitFor(
    async () => (await env.app.inject({ url: `/v1/runs/${finishedRunId}` })).json().status === 'succeeded',
    {
      timeoutMs: 30_000,
      what: 'the seed run to succeed',
    },
  );
  await worker.close('requeue'); // fuzzed submissions that happen to be valid stay queued
});
afterAll(async () => {
  await env.cleanup();
  const byStatus = [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}: ${n}`);
  console.log(`fuzz-requests: ${requests} requests (${byStatus.join(', ')})`);
});

type Method = 'GET' | 'POST' | 'DELETE';

async function send(
  method: Method,
  url: string,
  opts: { payload?: unknown; headers?: Record<string, string> } = {},
) {
  requests++;
  const payload =
    opts.payload === undefined
      ? undefined
      : typeof opts.payload === 'string' || Buffer.isBuffer(opts.payload)
        ? opts.payload
        : JSON.stringify(opts.payload);
  const res = await env.app.inject({
    method,
    url,
    payload,
    headers: {
      ...(payload !== undefined && !opts.headers?.['content-type']
        ? { 'content-type': 'application/json' }
        : {}),
      ...opts.headers,
    },
  });
  statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
  return res;
}

const describeReq = (method: string, url: string, payload?: unknown) =>
  `${method} ${url} ${payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload)}`;

/** Fields a run request issue may name: its own keys and the catalogue's (for missing required ones). */
function runFields(body: unknown): Set<string> {
  const own = typeof body === 'object' && body !== null && !Array.isArray(body) ? Object.keys(body) : [''];
  return new Set([...own, ...OPTION_KEYS, 'dryRun', 'idempotency-key']);
}

describe('POST /v1/runs', () => {
  it('JSON bodies, dry run and real', async () => {
    await fc.assert(
      fc.asyncProperty(runBody, fc.boolean(), async (body, dry) => {
        const url = dry ? '/v1/runs?dryRun=true' : '/v1/runs';
        const res = await send('POST', url, { payload: body });
        assertWellFormed(res, describeReq('POST', url, body), { fields: runFields(body) });
        const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
        // An object body's issues name its fields: never the whole body (the empty path), unless "" is a key.
        if (res.statusCode === 400 && isObject && !('' in body) && res.json().error === 'invalid_request')
          expect(res.json().issues.every((i: { path: string }) => i.path !== '')).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  it('garbage bytes, YAML and other content types, odd query strings and headers', async () => {
    const contentType = fc.constantFrom(
      'application/json',
      'application/yaml',
      'text/yaml',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/json; charset=utf-16',
      '',
    );
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
      fc.string({ maxLength: 200 }),
      fc.constantFrom(
        '{"__proto__": {"x": 1}}',
        '{"constructor": {"prototype": {}}}',
        '{"method": "sft",',
        'method: [sft',
        'a: &a [*a]',
        '!!python/object/apply:os.system ["id"]',
        `method: sft\nmodel: ${HF_MODEL}\ndata: ${DATA_DIRS[0]}\niters: 1\nlora_parameters: {rank: -1}\n`,
        'null',
        '[]',
        '"x"',
        '1e999',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        contentType,
        payload,
        queryString(['dryRun']),
        fc.option(nastyString.map(enc)),
        async (type, body, q, key) => {
          const url = `/v1/runs?${q.qs}`;
          const headers: Record<string, string> = type ? { 'content-type': type } : {};
          if (key) headers['idempotency-key'] = key;
          const res = await send('POST', url, { payload: body, headers });
          assertWellFormed(res, describeReq('POST', `${url} [${type}]`, String(body)));
        },
      ),
      { numRuns: 600 },
    );
  });
});

describe('query strings and ids', () => {
  it('GET /v1/runs with hostile filters', async () => {
    const keys = [
      'status',
      'method',
      'model',
      'sweep',
      'tag',
      'created_from',
      'created_to',
      'limit',
      'cursor',
    ];
    await fc.assert(
      fc.asyncProperty(queryString(keys), async (q) => {
        const url = `/v1/runs?${q.qs}`;
        const res = await send('GET', url);
        assertWellFormed(res, describeReq('GET', url), { fields: new Set(q.keys) });
      }),
      { numRuns: 800 },
    );
  });

  it('run detail, metrics, logs and cancel with hostile ids and queries', async () => {
    const id = fc.oneof(fc.constant(finishedRunId), nastyString.filter((s) => s.length > 0).map(enc));
    const route = fc.constantFrom('', '/metrics', '/logs', '/cancel');
    const keys = ['name', 'split', 'since', 'follow', 'after'];
    await fc.assert(
      fc.asyncProperty(id, route, queryString(keys), async (runId, suffix, q) => {
        const method: Method = suffix === '/cancel' ? 'POST' : 'GET';
        const url = `/v1/runs/${runId}${suffix}?${q.qs}`;
        const res = await send(method, url);
        assertWellFormed(res, describeReq(method, url), { fields: new Set(['id', ...q.keys]) });
      }),
      { numRuns: 800 },
    );
  });
});

describe('other JSON routes', () => {
  it('POST /v1/datasets/validate', async () => {
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.record(
        {
          data: fc.oneof(fc.constantFrom(...DATA_DIRS), nastyString),
          method: fc.oneof(fc.constantFrom(...METHODS), nastyString),
          batch_size: nastyValue,
          test: nastyValue,
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const res = await send('POST', '/v1/datasets/validate', { payload: b });
        const own = typeof b === 'object' && b !== null && !Array.isArray(b) ? Object.keys(b) : [];
        assertWellFormed(res, describeReq('POST', '/v1/datasets/validate', b), {
          fields: new Set(['body', ...own, 'data', 'method']),
        });
      }),
      { numRuns: 400 },
    );
  });

  it('sweeps: submit, list, detail and cancel', async () => {
    const sweepBody = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.record(
        {
          name: nastyValue,
          base: fc.oneof(runBody, nastyValue),
          grid: fc.oneof(
            fc.dictionary(
              fc.oneof(fc.constantFrom(...OPTION_KEYS), nastyString),
              fc.array(nastyValue, { maxLength: 3 }),
              { maxKeys: 2 },
            ),
            nastyValue,
          ),
          random: nastyValue,
          metric: fc.oneof(fc.record({ name: nastyString, goal: nastyString }), nastyValue),
          max_runs: nastyValue,
        },
        { requiredKeys: [] },
      ),
    );
    type Action = { method: Method; url: string; payload: unknown };
    const action = fc.oneof(
      sweepBody.map((b): Action => ({ method: 'POST', url: '/v1/sweeps', payload: b })),
      queryString(['status', 'limit', 'cursor']).map((q): Action => ({
        method: 'GET',
        url: `/v1/sweeps?${q.qs}`,
        payload: undefined,
      })),
      fc
        .tuple(nastyString.filter(Boolean).map(enc), queryString(['format']))
        .map(([id, q]): Action => ({ method: 'GET', url: `/v1/sweeps/${id}?${q.qs}`, payload: undefined })),
      nastyString
        .filter(Boolean)
        .map((id): Action => ({ method: 'POST', url: `/v1/sweeps/${enc(id)}/cancel`, payload: undefined })),
    );
    await fc.assert(
      fc.asyncProperty(action, async (a) => {
        const res = await send(a.method, a.url, { payload: a.payload });
        assertWellFormed(res, describeReq(a.method, a.url, a.payload));
      }),
      { numRuns: 400 },
    );
  });

  it('every route in the OpenAPI document, with hostile path parameters, queries and bodies', async () => {
    const spec = (await send('GET', '/docs/json')).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    const operations = Object.entries(spec.paths).flatMap(([url, item]) =>
      Object.keys(item).map((m) => ({ method: m.toUpperCase() as Method, url })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(15);
    const request = fc.tuple(
      fc.constantFrom(...operations),
      fc.array(nastyString.filter(Boolean), { minLength: 3, maxLength: 3 }),
      queryString(['limit', 'status', 'format', 'follow', 'since', 'dryRun', 'next']),
      fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 2 })),
    );
    await fc.assert(
      fc.asyncProperty(request, async ([op, params, q, body]) => {
        let i = 0;
        const url = `${op.url.replace(/\{\w+\}/g, () => enc(params[i++]!))}?${q.qs}`;
        const res = await send(op.method, url, {
          payload: op.method === 'GET' || op.method === 'DELETE' ? undefined : body,
        });
        assertWellFormed(res, describeReq(op.method, url, body), { html: op.url === '/login' });
      }),
      { numRuns: 800 },
    );
  });
});
