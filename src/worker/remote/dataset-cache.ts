// The worker's cache of uploaded datasets, by content hash: a miss downloads the files from the control plane into
// a temp folder while hashing them, checks the dataset's SHA-256, and renames the folder into place (atomic); a hit
// is a stat. The cache keeps under a byte cap by evicting the least recently used datasets (never one in use).
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type { DatasetManifest } from '../../contract/worker-protocol.js';
import { datasetSha } from '../../datasets/dataset-sha.js';
import type { ControlPlaneClient } from './control-plane-client.js';

export class DatasetFetchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetFetchError';
  }
}

export interface DatasetCacheOptions {
  dir: string;
  maxBytes: number;
  client: ControlPlaneClient;
}

export interface DatasetCache {
  /** The local folder of dataset `sha256`, downloaded on a miss; `hit` says whether it was cached. */
  get(sha256: string): Promise<{ dir: string; hit: boolean }>;
  /** Keeps a dataset from eviction while a run uses it; call the returned function when done. */
  pin(sha256: string): () => void;
  /** Bytes the cache holds. */
  size(): Promise<number>;
}

export function createDatasetCache(o: DatasetCacheOptions): DatasetCache {
  const inFlight = new Map<string, Promise<{ dir: string; hit: boolean }>>();
  const pins = new Map<string, number>();

  async function get(sha: string): Promise<{ dir: string; hit: boolean }> {
    const dir = path.join(o.dir, sha);
    if (await isDir(dir)) {
      // The folder's mtime is its last use: LRU order survives restarts of the worker.
      const now = new Date();
      await fs.utimes(dir, now, now);
      return { dir, hit: true };
    }
    let p = inFlight.get(sha);
    if (!p) {
      p = download(sha, dir).finally(() => inFlight.delete(sha));
      inFlight.set(sha, p);
    }
    return p;
  }

  async function download(sha: string, dir: string): Promise<{ dir: string; hit: boolean }> {
    const manifest = await o.client.json<DatasetManifest>('GET', `/v1/worker/datasets/${sha}`);
    const needed = manifest.files.reduce((n, f) => n + f.bytes, 0);
    if (needed > o.maxBytes)
      throw new DatasetFetchError(
        `dataset ${sha} has ${needed} bytes, more than the cache may hold (DATASET_CACHE_BYTES=${o.maxBytes})`,
      );
    await fs.mkdir(o.dir, { recursive: true });
    await evict(needed, sha);
    const temp = path.join(o.dir, `.incoming-${randomBytes(6).toString('hex')}`);
    await fs.mkdir(temp);
    try {
      const files = [];
      for (const f of manifest.files)
        files.push({ file: f.file, sha256: await fetchFile(sha, f.file, path.join(temp, f.file)) });
      const got = datasetSha(files);
      if (got !== sha) throw new DatasetFetchError(`dataset ${sha} arrived with content ${got}; refusing it`);
      await fs.rename(temp, dir).catch((e: NodeJS.ErrnoException) => {
        // Another download of the same dataset got there first: same content, fine.
        if (e.code !== 'EEXIST' && e.code !== 'ENOTEMPTY') throw e;
      });
      return { dir, hit: false };
    } finally {
      await fs.rm(temp, { recursive: true, force: true });
    }
  }

  async function fetchFile(sha: string, file: string, to: string): Promise<string> {
    const res = await o.client.download(`/v1/worker/datasets/${sha}/${file}`);
    const hash = createHash('sha256');
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(res, tap, createWriteStream(to, { flags: 'wx' }));
    return hash.digest('hex');
  }

  /** Removes least recently used datasets until `needed` more bytes fit under the cap. */
  async function evict(needed: number, keep: string): Promise<void> {
    const entries = await listEntries(o.dir);
    let total = entries.reduce((n, e) => n + e.bytes, 0);
    for (const e of entries.sort((a, b) => a.usedAt - b.usedAt)) {
      if (total + needed <= o.maxBytes) return;
      if (e.sha === keep || (pins.get(e.sha) ?? 0) > 0) continue;
      await fs.rm(path.join(o.dir, e.sha), { recursive: true, force: true });
      total -= e.bytes;
    }
    if (total + needed > o.maxBytes)
      throw new DatasetFetchError(
        `no room for dataset ${keep} (${needed} bytes): the cache is full of datasets in use`,
      );
  }

  return {
    get,
    pin(sha) {
      pins.set(sha, (pins.get(sha) ?? 0) + 1);
      return () => pins.set(sha, Math.max(0, (pins.get(sha) ?? 1) - 1));
    },
    size: async () => (await listEntries(o.dir)).reduce((n, e) => n + e.bytes, 0),
  };
}

async function isDir(p: string): Promise<boolean> {
  return (await fs.stat(p).catch(() => undefined))?.isDirectory() ?? false;
}

async function listEntries(dir: string): Promise<{ sha: string; bytes: number; usedAt: number }[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const out = [];
  for (const sha of names.filter((n) => /^[0-9a-f]{64}$/.test(n))) {
    const st = await fs.stat(path.join(dir, sha)).catch(() => undefined);
    if (!st?.isDirectory()) continue;
    let bytes = 0;
    for (const f of await fs.readdir(path.join(dir, sha)))
      bytes += (await fs.stat(path.join(dir, sha, f))).size;
    out.push({ sha, bytes, usedAt: st.mtimeMs });
  }
  return out;
}
