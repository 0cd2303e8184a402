// The control plane's content-addressed store: files kept under DATA_DIR/blobs/<sha256>, written to a temp file
// while hashed and renamed into place only when the hash matches, so a blob present is always whole and right.
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { UploadTooLargeError } from '../datasets/store-upload.js';
import { RequestValidationError } from '../domain/errors.js';
import { hashFile } from '../shared/file-hash.js';

export function blobsDir(dataDir: string): string {
  return path.join(dataDir, 'blobs');
}

export function blobPath(dataDir: string, sha256: string): string {
  return path.join(blobsDir(dataDir), sha256);
}

export async function hasBlob(dataDir: string, sha256: string): Promise<boolean> {
  return (await fs.stat(blobPath(dataDir, sha256)).catch(() => undefined))?.isFile() ?? false;
}

/**
 * Stores a stream under its SHA-256. Idempotent: a blob already present is kept and the stream drained. A body
 * whose hash is not `sha256` is refused (400 naming the hash) and leaves nothing behind.
 */
export async function putBlob(
  dataDir: string,
  sha256: string,
  body: Readable,
  maxBytes: number,
): Promise<{ bytes: number; created: boolean }> {
  const dir = blobsDir(dataDir);
  const target = blobPath(dataDir, sha256);
  await fs.mkdir(dir, { recursive: true });
  const temp = path.join(dir, `.incoming-${randomBytes(6).toString('hex')}`);
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        done(new UploadTooLargeError(maxBytes));
        return;
      }
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(body, tap, createWriteStream(temp, { flags: 'wx' }));
    const got = hash.digest('hex');
    if (got !== sha256)
      throw new RequestValidationError([
        { path: 'sha256', message: `the body's SHA-256 is ${got}, not ${sha256}` },
      ]);
    if (await hasBlob(dataDir, sha256)) return { bytes, created: false };
    await fs.rename(temp, target);
    return { bytes, created: true };
  } finally {
    await fs.rm(temp, { force: true });
  }
}

/**
 * Stores a file of this machine under its SHA-256 (the local worker's uploads): a copy-on-write clone where the file
 * system has them (APFS), else a copy; written to a temp file and renamed, so a blob present is whole.
 */
export async function putBlobFromFile(
  dataDir: string,
  file: string,
): Promise<{ sha256: string; bytes: number }> {
  const { sha256, bytes } = await hashFile(file);
  if (await hasBlob(dataDir, sha256)) return { sha256, bytes };
  await fs.mkdir(blobsDir(dataDir), { recursive: true });
  const temp = path.join(blobsDir(dataDir), `.incoming-${randomBytes(6).toString('hex')}`);
  try {
    await fs.copyFile(file, temp, fsConstants.COPYFILE_FICLONE);
    const got = await hashFile(temp);
    // The file changed while it was copied (the trainer rewrote it): not stored; the next save is.
    if (got.sha256 !== sha256)
      throw new RequestValidationError([{ path: 'file', message: `${file} changed while it was stored` }]);
    await fs.rename(temp, blobPath(dataDir, sha256));
    return { sha256, bytes };
  } finally {
    await fs.rm(temp, { force: true });
  }
}
