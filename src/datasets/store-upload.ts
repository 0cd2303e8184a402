// Streams uploaded split files to a temp folder while hashing and checking them, then files them by content hash.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type { FileIssue } from '../domain/errors.js';
import { datasetSha } from './dataset-sha.js';
import { JsonlChecker } from './jsonl-check.js';

export { datasetSha };

export const UPLOAD_SPLITS = ['train', 'valid', 'test'] as const;
export type UploadSplit = (typeof UPLOAD_SPLITS)[number];

/** Thrown when the files together pass the byte limit; `statusCode` 413 is what the error handler answers. */
export class UploadTooLargeError extends Error {
  readonly statusCode = 413;
  readonly code = 'FST_ERR_CTP_BODY_TOO_LARGE';
  constructor(limit: number) {
    super(`The uploaded files exceed ${limit} bytes (UPLOAD_LIMIT_BYTES)`);
    this.name = 'UploadTooLargeError';
  }
}

export interface StoredFile {
  file: string;
  sha256: string;
  bytes: number;
  rows: number;
}

export interface StoredUpload {
  /** SHA-256 of the `sha256sum` listing of the files, sorted by name (see datasetSha). */
  sha256: string;
  dir: string;
  files: StoredFile[];
  bytes: number;
  /** False when the same content was stored before (deduplicated). */
  placed: boolean;
}

/** One upload in progress: files land in a private temp folder next to the store (same filesystem, atomic rename). */
export class UploadSession {
  private readonly files = new Map<UploadSplit, StoredFile>();
  private readonly checkers: JsonlChecker[] = [];
  private total = 0;
  private committed = false;

  private constructor(
    readonly storeDir: string,
    readonly tempDir: string,
    private readonly maxBytes: number,
  ) {}

  static async start(storeDir: string, maxBytes: number): Promise<UploadSession> {
    const incoming = path.join(storeDir, '.incoming');
    await fs.mkdir(incoming, { recursive: true });
    await removeStale(incoming);
    const tempDir = await fs.mkdtemp(path.join(incoming, `${randomBytes(4).toString('hex')}-`));
    return new UploadSession(storeDir, tempDir, maxBytes);
  }

  has(split: UploadSplit): boolean {
    return this.files.has(split);
  }

  /** Streams one split to disk, hashing and checking each chunk as it passes; never holds the file in memory. */
  async addFile(split: UploadSplit, source: Readable): Promise<StoredFile> {
    const file = `${split}.jsonl`;
    const hash = createHash('sha256');
    const checker = new JsonlChecker(file);
    const tap = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        this.total += chunk.length;
        if (this.total > this.maxBytes) {
          done(new UploadTooLargeError(this.maxBytes));
          return;
        }
        hash.update(chunk);
        checker.push(chunk);
        done(null, chunk);
      },
    });
    await pipeline(source, tap, createWriteStream(path.join(this.tempDir, file), { flags: 'wx' }));
    checker.end();
    const stored: StoredFile = { file, sha256: hash.digest('hex'), bytes: checker.bytes, rows: checker.rows };
    this.files.set(split, stored);
    this.checkers.push(checker);
    return stored;
  }

  /** Problems found while streaming, in split order. */
  problems(): { problems: FileIssue[]; total: number } {
    const order = (f: string) => UPLOAD_SPLITS.indexOf(f.replace('.jsonl', '') as UploadSplit);
    const sorted = [...this.checkers].sort((a, b) => order(a.file) - order(b.file));
    return {
      problems: sorted.flatMap((c) => c.problems),
      total: sorted.reduce((n, c) => n + c.totalProblems, 0),
    };
  }

  storedFiles(): StoredFile[] {
    return UPLOAD_SPLITS.flatMap((s) => this.files.get(s) ?? []);
  }

  /**
   * Moves the files to storeDir/<sha256>. When that folder exists the same content is already stored: the copy
   * just received is dropped. Two identical uploads racing both end at the one folder (rename is atomic).
   */
  async commit(): Promise<StoredUpload> {
    const files = this.storedFiles();
    const sha256 = datasetSha(files);
    const dir = path.join(this.storeDir, sha256);
    let placed = false;
    if (!(await exists(dir))) {
      try {
        await fs.rename(this.tempDir, dir);
        placed = true;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw e; // lost a race to an identical upload: fine
      }
    }
    this.committed = placed;
    return { sha256, dir, files, bytes: files.reduce((n, f) => n + f.bytes, 0), placed };
  }

  /** Removes the temp folder unless it became the stored dataset. Safe to call more than once. */
  async discard(): Promise<void> {
    if (!this.committed) await fs.rm(this.tempDir, { recursive: true, force: true });
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}

/** Temp folders of uploads cut short by a crash: anything in .incoming older than a day. */
async function removeStale(incoming: string, maxAgeMs = 24 * 3600 * 1000): Promise<void> {
  const now = Date.now();
  for (const name of await fs.readdir(incoming)) {
    const p = path.join(incoming, name);
    const st = await fs.stat(p).catch(() => undefined);
    if (st && now - st.mtimeMs > maxAgeMs) await fs.rm(p, { recursive: true, force: true });
  }
}
