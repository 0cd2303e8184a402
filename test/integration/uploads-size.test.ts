// Upload size: UPLOAD_LIMIT_BYTES per file and in total (413, nothing kept), not BODY_LIMIT_BYTES, since uploads
// are streamed to disk; a 256 MiB upload over a real socket is stored whole.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { datasetUploads } from '../helpers/dataset-uploads.js';
import { BOUNDARY } from '../helpers/multipart.js';
import { createTestEnv, type TestEnv } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';

const env = useTestEnv({}, { perFile: true });
const { upload, storeEntries } = datasetUploads(env);

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
