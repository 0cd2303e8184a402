// POST /v1/datasets: multipart uploads streamed to disk while hashed and checked, stored by content hash,
// deduplicated, usable as data: "dataset:<sha>", listed, and deleted only when no active run needs them.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BOUNDARY, multipart, type Part } from '../helpers/multipart.js';
import { createTestEnv, TEST_DATA, type TestEnv } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';
import { waitFor } from '../helpers/wait-for.js';

const file = (split: string, dir = 'sft-chat'): Part => ({
  name: `${split}.jsonl`,
  filename: `${split}.jsonl`,
  content: fs.readFileSync(path.join(TEST_DATA, dir, `${split}.jsonl`)),
});

/** What `sha256sum test.jsonl train.jsonl valid.jsonl | sha256sum` prints, computed independently. */
function expectedSha(files: Record<string, Buffer | string>): string {
  const listing = Object.keys(files)
    .sort()
    .map((name) => `${createHash('sha256').update(files[name]!).digest('hex')}  ${name}\n`)
    .join('');
  return createHash('sha256').update(listing).digest('hex');
}

const env = useTestEnv({}, { perFile: true });

async function upload(parts: Part[], e: TestEnv = env) {
  return e.app.inject({ method: 'POST', url: '/v1/datasets', ...multipart(parts) });
}

function storeEntries(e: TestEnv = env): { datasets: string[]; incoming: string[] } {
  const dir = path.join(e.dataDir, 'datasets');
  const list = (p: string) => (fs.existsSync(p) ? fs.readdirSync(p) : []);
  return {
    datasets: list(dir).filter((n) => n !== '.incoming'),
    incoming: list(path.join(dir, '.incoming')),
  };
}

describe('uploading a dataset', () => {
  let sha: string;

  it('stores it under DATA_DIR/datasets/<sha256> and answers its id, files, rows and bytes', async () => {
    const train = fs.readFileSync(path.join(TEST_DATA, 'sft-chat', 'train.jsonl'));
    const valid = fs.readFileSync(path.join(TEST_DATA, 'sft-chat', 'valid.jsonl'));
    const res = await upload([
      file('train'),
      file('valid'),
      { name: 'name', content: 'bakery chat' },
      { name: 'method', content: 'sft' },
    ]);
    expect(res.statusCode, res.body).toBe(201);
    sha = expectedSha({ 'train.jsonl': train, 'valid.jsonl': valid });
    expect(res.json()).toEqual({
      id: `dataset:${sha}`,
      sha256: sha,
      name: 'bakery chat',
      files: ['train.jsonl', 'valid.jsonl'],
      rows: { 'train.jsonl': 10, 'valid.jsonl': 4 },
      bytes: train.length + valid.length,
      createdAt: expect.any(String),
      deduplicated: false,
    });
    const stored = path.join(env.dataDir, 'datasets', sha);
    expect(fs.readFileSync(path.join(stored, 'train.jsonl')).equals(train)).toBe(true);
    expect(fs.readFileSync(path.join(stored, 'valid.jsonl')).equals(valid)).toBe(true);
    expect(storeEntries()).toEqual({ datasets: [sha], incoming: [] });
  });

  it('the same content again (other part order, no method) is deduplicated to the same id', async () => {
    const res = await upload([file('valid'), file('train')]);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: `dataset:${sha}`, name: 'bakery chat', deduplicated: true });
    expect(storeEntries()).toEqual({ datasets: [sha], incoming: [] });
  });

  it('is listed and shown', async () => {
    const list = (await env.app.inject({ url: '/v1/datasets' })).json();
    expect(list.items.map((d: { sha256: string }) => d.sha256)).toEqual([sha]);
    const one = await env.app.inject({ url: `/v1/datasets/dataset:${sha}` });
    expect(one.statusCode).toBe(200);
    expect(one.json().files).toEqual(['train.jsonl', 'valid.jsonl']);
  });

  it('a run may name it as data, and it cannot be deleted while that run is queued or running', async () => {
    const body = {
      method: 'sft',
      model: 'mlx-community/Qwen2.5-0.5B-Instruct-4bit',
      data: `dataset:${sha}`,
      iters: 4,
      batch_size: 2,
    };
    const dry = await env.app.inject({ method: 'POST', url: '/v1/runs?dryRun=true', payload: body });
    expect(dry.statusCode, dry.body).toBe(200);
    const argv: string[] = dry.json().argv;
    expect(argv).toContain(`--data=${path.join(env.dataDir, 'datasets', sha)}`);

    const submitted = await env.app.inject({ method: 'POST', url: '/v1/runs', payload: body });
    expect(submitted.statusCode, submitted.body).toBe(201);
    const refused = await env.app.inject({ method: 'DELETE', url: `/v1/datasets/${sha}` });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      error: 'conflict',
      message: expect.stringContaining('1 active run'),
    });

    await env.startWorker();
    const run = await waitFor(
      async () => {
        const r = (await env.app.inject({ url: `/v1/runs/${submitted.json().id}` })).json();
        return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : null;
      },
      { timeoutMs: 30_000, what: 'the run on the uploaded dataset to end' },
    );
    expect(run.status, run.error).toBe('succeeded');

    const deleted = await env.app.inject({ method: 'DELETE', url: `/v1/datasets/${sha}` });
    expect(deleted.statusCode).toBe(204);
    expect(storeEntries().datasets).toEqual([]);
    expect((await env.app.inject({ url: '/v1/datasets' })).json().items).toEqual([]);
    expect((await env.app.inject({ method: 'DELETE', url: `/v1/datasets/${sha}` })).statusCode).toBe(404);
    const gone = await env.app.inject({ method: 'POST', url: '/v1/runs?dryRun=true', payload: body });
    expect(gone.statusCode).toBe(400);
    expect(gone.json().issues[0]).toMatchObject({
      path: 'data',
      message: expect.stringContaining('no uploaded dataset'),
    });
  });
});

describe('checking uploads', () => {
  it('with a method, runs the dataset check for it: 422 naming file and line, nothing stored', async () => {
    const res = await upload([
      file('train', 'bad/invalid-lines'),
      file('valid', 'bad/invalid-lines'),
      { name: 'method', content: 'dpo' },
    ]);
    expect(res.statusCode, res.body).toBe(422);
    const json = res.json();
    expect(json.error).toBe('invalid_dataset');
    expect(json.problems[0]).toMatchObject({
      file: expect.stringMatching(/\.jsonl$/),
      line: expect.any(Number),
    });
    expect(json.report.dir).toBe('upload');
    expect(storeEntries().incoming).toEqual([]);
  });

  it('with a method, refuses records of another format (sft chat uploaded for dpo)', async () => {
    const res = await upload([file('train'), { name: 'method', content: 'dpo' }]);
    expect(res.statusCode).toBe(422);
    expect(res.json().problems[0]).toMatchObject({ file: 'train.jsonl', line: 1 });
  });

  it('without a method, checks the JSONL itself: blank lines, BOM, bad JSON, non-objects, empty files', async () => {
    const train = '{"a":1}\n\n[1,2]\n{"b":\n\uFEFF{"c":3}\n';
    const res = await upload([
      { name: 'train.jsonl', filename: 'train.jsonl', content: train },
      { name: 'test.jsonl', filename: 'test.jsonl', content: '' },
    ]);
    expect(res.statusCode, res.body).toBe(422);
    const problems = res.json().problems as { file: string; line: number | null; message: string }[];
    expect(problems.map((p) => [p.file, p.line])).toEqual([
      ['train.jsonl', 2],
      ['train.jsonl', 3],
      ['train.jsonl', 4],
      ['train.jsonl', 5],
      ['test.jsonl', null],
    ]);
    expect(problems[0]!.message).toMatch(/blank line/);
    expect(problems[3]!.message).toMatch(/byte-order mark/);
  });

  it('without a method, accepts JSONL of any record shape', async () => {
    const res = await upload([file('train', 'dpo')]);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().files).toEqual(['train.jsonl']);
  });
});

describe('bad upload requests answer 4xx naming the part', () => {
  const cases: [string, Part[], string][] = [
    ['no train.jsonl', [file('valid')], 'train.jsonl'],
    [
      'an unknown file part',
      [file('train'), { name: 'evil.sh', filename: 'evil.sh', content: 'rm -rf ~' }],
      'evil.sh',
    ],
    [
      'a traversal in the file name',
      [file('train'), { name: 'file', filename: '../../../etc/cron.d/x.jsonl', content: '{}' }],
      'file',
    ],
    [
      'a traversal in the part name',
      [{ name: '../train.jsonl', filename: 'train.jsonl', content: '{}' }],
      '../train.jsonl',
    ],
    ['train.jsonl twice', [file('train'), file('train')], 'train.jsonl'],
    ['an unknown method', [file('train'), { name: 'method', content: 'nope' }], 'method'],
    ['an unknown field', [file('train'), { name: 'owner', content: 'root' }], 'owner'],
    ['a bad batch_size', [file('train'), { name: 'batch_size', content: '-1' }], 'batch_size'],
  ];
  it.each(cases)('%s', async (_what, parts, field) => {
    const res = await upload(parts);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error).toBe('invalid_request');
    expect(res.json().issues.map((i: { path: string }) => i.path)).toContain(field);
    expect(storeEntries().incoming).toEqual([]);
  });

  it('a JSON body is 415', async () => {
    const res = await env.app.inject({ method: 'POST', url: '/v1/datasets', payload: { train: 'x' } });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({
      error: 'unsupported_media_type',
      message: expect.stringContaining('multipart'),
    });
  });

  it('a truncated or boundary-less multipart body is 400', async () => {
    const { payload, headers } = multipart([file('train')]);
    const cut = await env.app.inject({
      method: 'POST',
      url: '/v1/datasets',
      headers,
      payload: payload.subarray(0, payload.length - 40),
    });
    expect(cut.statusCode, cut.body).toBe(400);
    expect(cut.json().issues[0].path).toBe('body');
    const noBoundary = await env.app.inject({
      method: 'POST',
      url: '/v1/datasets',
      headers: { 'content-type': 'multipart/form-data' },
      payload,
    });
    expect(noBoundary.statusCode, noBoundary.body).toBe(400);
    expect(storeEntries().incoming).toEqual([]);
  });

  it('DELETE and GET with something other than a sha256 are 400 naming sha', async () => {
    for (const sha of ['..%2F..%2Fetc', 'abc', 'A'.repeat(64)]) {
      const res = await env.app.inject({ method: 'DELETE', url: `/v1/datasets/${sha}` });
      expect(res.statusCode, sha).toBe(400);
      expect(res.json().issues[0].path).toBe('params.sha');
    }
  });
});

describe('upload size limits', () => {
  let small: TestEnv;
  beforeAll(async () => {
    small = await createTestEnv({ UPLOAD_LIMIT_BYTES: '4096' });
  });
  afterAll(async () => {
    await small.cleanup();
  });
  const rows = (n: number) =>
    Array.from({ length: n }, (_, i) => `{"text": "row ${i} ${'x'.repeat(40)}"}`).join('\n') + '\n';

  it('one file over UPLOAD_LIMIT_BYTES is 413, nothing kept', async () => {
    const res = await upload([{ name: 'train.jsonl', filename: 'train.jsonl', content: rows(200) }], small);
    expect(res.statusCode, res.body).toBe(413);
    expect(res.json()).toMatchObject({
      error: 'payload_too_large',
      message: expect.stringContaining('UPLOAD_LIMIT_BYTES'),
    });
    expect(storeEntries(small)).toEqual({ datasets: [], incoming: [] });
  });

  it('files that together pass the limit are 413', async () => {
    const part = rows(40); // about 2.4 KB each
    const res = await upload(
      [
        { name: 'train.jsonl', filename: 'train.jsonl', content: part },
        { name: 'valid.jsonl', filename: 'valid.jsonl', content: part },
      ],
      small,
    );
    expect(res.statusCode, res.body).toBe(413);
    expect(storeEntries(small)).toEqual({ datasets: [], incoming: [] });
  });

  it('an upload larger than BODY_LIMIT_BYTES but within UPLOAD_LIMIT_BYTES is fine (uploads are streamed, not bodies)', async () => {
    const big = rows(40_000); // about 2.3 MB, over the 1 MiB body limit
    const res = await upload([{ name: 'train.jsonl', filename: 'train.jsonl', content: big }]);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().rows).toEqual({ 'train.jsonl': 40_000 });
  });
});

describe('streaming', () => {
  // The API's memory during such an upload is the benchmark figure bench/figures/upload-memory.ts.
  it('a 256 MiB upload over a real socket is stored whole', async () => {
    const address = await env.app.listen({ port: 0, host: '127.0.0.1' });
    const line = `{"text": "${'y'.repeat(1000)}"}\n`;
    const total = 256 * 1024 * 1024;
    const lines = Math.floor(total / line.length);
    const head = Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="train.jsonl"; filename="train.jsonl"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
    const block = Buffer.from(line.repeat(64));
    async function* body() {
      yield head;
      for (let i = 0; i < lines / 64; i++) yield block;
      yield tail;
    }
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        `${address}/v1/datasets`,
        { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` } },
        (r) => {
          let text = '';
          r.on('data', (c: Buffer) => (text += c.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', reject);
      Readable.from(body()).pipe(req);
    });
    expect(res.status, res.body).toBe(201);
    const json = JSON.parse(res.body);
    expect(json.rows['train.jsonl']).toBe(Math.ceil(lines / 64) * 64);
    expect(fs.statSync(path.join(env.dataDir, 'datasets', json.sha256, 'train.jsonl')).size).toBe(json.bytes);
  });
});
