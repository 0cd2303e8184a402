// Puts an artifact's bytes (a file as it is, a folder as its deterministic tar) at a target path: written beside it
// and renamed into place only when the result hashes to the recorded SHA-256. Used by the control plane (from its
// blob store) and by a worker (an export's fused model, downloaded), so both sides unpack the same way.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

import { extract } from 'tar';

import { measureArtifact } from './artifact-files.js';

export interface OutputBytes {
  /** The file's or folder's own name: a folder's tar holds its entries under it. */
  name: string;
  isDir: boolean;
  sha256: string;
}

/** Whether `target` already holds these bytes (a file with the hash, or a folder whose tar has it). */
export async function holdsOutput(target: string, o: OutputBytes): Promise<boolean> {
  const st = await fs.stat(target).catch(() => undefined);
  if (!st || st.isDirectory() !== o.isDir) return false;
  return (await measureArtifact(target)).sha256 === o.sha256;
}

/** Unpacks (a folder) or copies (a file) `source` to `target`, replacing what is there; throws on a hash mismatch. */
export async function placeOutput(source: string, target: string, o: OutputBytes): Promise<void> {
  await fs.mkdir(path.dirname(target), { recursive: true });
  const temp = `${target}.incoming-${randomBytes(6).toString('hex')}`;
  try {
    let made = temp;
    if (o.isDir) {
      await fs.mkdir(temp);
      // Paths leaving the folder are refused by tar itself.
      await extract({ file: source, cwd: temp, strict: true });
      made = path.join(temp, o.name);
    } else await fs.copyFile(source, temp);
    const got = (await measureArtifact(made)).sha256;
    if (got !== o.sha256) throw new Error(`${o.name} unpacked as ${got}, not the recorded ${o.sha256}`);
    await fs.rm(target, { recursive: true, force: true });
    await fs.rename(made, target);
  } finally {
    await fs.rm(temp, { recursive: true, force: true });
  }
}
