// Reading artifacts from disk in constant memory: a file as it is, a folder as a deterministic tar; size and sha256.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { create as createTar } from 'tar';

export interface MeasuredArtifact {
  isDir: boolean;
  /** A file's size, or a folder's tar size: the bytes a download sends. */
  bytes: number;
  sha256: string;
}

/** Every directory and regular file under `dir`, sorted, relative to it (symlinks are left out). */
async function folderEntries(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  const entries = await fs.promises.readdir(path.join(dir, rel), { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(p, ...(await folderEntries(dir, p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/**
 * A folder as a tar whose bytes depend only on its files' names, modes and contents (sorted entries, portable
 * headers, mtime 0), so the sha256 recorded once is the sha256 of every later download. Entries sit under the
 * folder's own name. Streamed: memory stays constant whatever the size.
 */
export async function folderTarStream(dir: string): Promise<Readable> {
  const base = path.basename(dir);
  const entries = [base, ...(await folderEntries(dir)).map((e) => `${base}/${e}`)];
  const pack = createTar(
    { cwd: path.dirname(dir), portable: true, mtime: new Date(0), noDirRecurse: true, gzip: false },
    entries,
  );
  return Readable.from(pack);
}

/** Size and sha256 of what a download of `target` sends (read once, streamed). */
export async function measureArtifact(target: string): Promise<MeasuredArtifact> {
  const stat = await fs.promises.stat(target);
  const hash = createHash('sha256');
  let bytes = 0;
  const source = stat.isDirectory() ? await folderTarStream(target) : fs.createReadStream(target);
  await pipeline(source, async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) {
      bytes += chunk.length;
      hash.update(chunk);
    }
  });
  return { isDir: stat.isDirectory(), bytes, sha256: hash.digest('hex') };
}

/** Free bytes on the file system holding `dir` (for the fuse's disk check). */
export async function freeBytes(dir: string): Promise<number> {
  const s = await fs.promises.statfs(dir);
  return s.bavail * s.bsize;
}
