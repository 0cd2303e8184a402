// The worker's dataset cache against a listening control plane: a miss downloads and checks the content hash,
// a hit does not download, the cap evicts the least recently used dataset, and tampered content is refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  type ControlPlaneClient,
  createControlPlaneClient,
} from '../../src/worker/remote/control-plane-client.js';
import { createDatasetCache } from '../../src/worker/remote/dataset-cache.js';
import { multipart } from '../helpers/multipart.js';
import { createTestEnv, type TestEnv } from '../helpers/test-env.js';

let env: TestEnv;
let client: ControlPlaneClient;
let requests = 0;
const cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-dscache-'));

beforeAll(async () => {
  env = await createTestEnv();
  env.app.addHook('onRequest', async (req) => {
    if (req.url.startsWith('/v1/worker/datasets/')) requests++;
  });
  const address = await env.app.listen({ port: 0, host: '127.0.0.1' });
  const token = (
    await env.app.inject({ method: 'POST', url: '/v1/workers', payload: { name: 'cache-mac' } })
  ).json<{ token: string }>().token;
  client = createControlPlaneClient(address, token);
});
afterAll(async () => {
  client.close();
  await env.cleanup();
  fs.rmSync(cacheRoot, { recursive: true, force: true });
});

async function upload(rows: number, tag: string): Promise<string> {
  const train =
    Array.from({ length: rows }, (_, i) =>
      JSON.stringify({ text: `${tag} row ${i} ${'x'.repeat(40)}` }),
    ).join('\n') + '\n';
  const valid = `${JSON.stringify({ text: `${tag} valid` })}\n`;
  const res = await env.app.inject({
    method: 'POST',
    url: '/v1/datasets',
    ...multipart([
      { name: 'train', filename: 'train.jsonl', content: train },
      { name: 'valid', filename: 'valid.jsonl', content: valid },
    ]),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ sha256: string }>().sha256;
}

describe('dataset cache', () => {
  it('a miss downloads and checks the hash; a hit downloads nothing', async () => {
    const cache = createDatasetCache({ dir: path.join(cacheRoot, 'a'), maxBytes: 1 << 20, client });
    const sha = await upload(5, 'first');
    requests = 0;
    const miss = await cache.get(sha);
    expect(miss.hit).toBe(false);
    expect(requests).toBe(3); // the manifest and two files
    const stored = path.join(env.dataDir, 'datasets', sha);
    for (const f of ['train.jsonl', 'valid.jsonl'])
      expect(fs.readFileSync(path.join(miss.dir, f))).toEqual(fs.readFileSync(path.join(stored, f)));
    const hit = await cache.get(sha);
    expect(hit).toEqual({ dir: miss.dir, hit: true });
    expect(requests).toBe(3);
    expect(fs.readdirSync(path.join(cacheRoot, 'a'))).toEqual([sha]); // no temp folder left
  });

  it('over the cap the least recently used dataset goes, a pinned one stays, a too-large one is refused', async () => {
    const a = await upload(20, 'lru-a');
    const b = await upload(20, 'lru-b');
    const c = await upload(20, 'lru-c');
    const one = fs
      .readdirSync(path.join(env.dataDir, 'datasets', a))
      .reduce((n, f) => n + fs.statSync(path.join(env.dataDir, 'datasets', a, f)).size, 0);
    const dir = path.join(cacheRoot, 'lru');
    const cache = createDatasetCache({ dir, maxBytes: Math.floor(one * 2.5), client });
    await cache.get(a);
    await cache.get(b);
    const hourAgo = new Date(Date.now() - 3600_000);
    fs.utimesSync(path.join(dir, b), hourAgo, hourAgo);
    fs.utimesSync(path.join(dir, a), hourAgo, hourAgo);
    await cache.get(a); // a hit marks a used now: b is the least recently used
    await cache.get(c);
    expect(fs.readdirSync(dir).sort()).toEqual([a, c].sort());
    expect(await cache.size()).toBeLessThanOrEqual(Math.floor(one * 2.5));
    const unpin = cache.pin(a);
    await cache.get(b); // c is older than a, but a is pinned anyway
    expect(fs.readdirSync(dir).sort()).toEqual([a, b].sort());
    unpin();
    const big = await upload(200, 'big');
    await expect(cache.get(big)).rejects.toThrow(/more than the cache may hold/);
  });

  it('content that does not match its hash is refused and leaves nothing in the cache', async () => {
    const sha = await upload(5, 'tampered');
    fs.appendFileSync(path.join(env.dataDir, 'datasets', sha, 'train.jsonl'), '{"text": "evil"}\n');
    const dir = path.join(cacheRoot, 'bad');
    const cache = createDatasetCache({ dir, maxBytes: 1 << 20, client });
    await expect(cache.get(sha)).rejects.toThrow(/refusing it/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
