// Uploading a dataset to POST /v1/datasets: stored by content hash, deduplicated, listed and shown, usable as
// data: "dataset:<sha>", and deleted only when no queued or running run needs it.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { dataFile, datasetUploads } from '../helpers/dataset-uploads.js';
import { TEST_DATA } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';
import { waitFor } from '../helpers/wait-for.js';

/** What `sha256sum test.jsonl train.jsonl valid.jsonl | sha256sum` prints, computed independently. */
function expectedSha(files: Record<string, Buffer | string>): string {
  const listing = Object.keys(files)
    .sort()
    .map((name) => `${createHash('sha256').update(files[name]!).digest('hex')}  ${name}\n`)
    .join('');
  return createHash('sha256').update(listing).digest('hex');
}

const env = useTestEnv({}, { perFile: true });
const { upload, storeEntries } = datasetUploads(env);

describe('uploading a dataset', () => {
  let sha: string;

  it('stores it under DATA_DIR/datasets/<sha256> and answers its id, files, rows and bytes', async () => {
    const train = fs.readFileSync(path.join(TEST_DATA, 'sft-chat', 'train.jsonl'));
    const valid = fs.readFileSync(path.join(TEST_DATA, 'sft-chat', 'valid.jsonl'));
    const res = await upload([
      dataFile('train'),
      dataFile('valid'),
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
    const res = await upload([dataFile('valid'), dataFile('train')]);
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
