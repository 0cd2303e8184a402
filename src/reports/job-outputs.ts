// Places what a remote worker's follow-up job made (an evaluation report, a fused model folder, an exported file) from
// the blob store into the run's folder on the control plane: a file copied, a folder unpacked from the deterministic
// tar it was uploaded as, checked against its hash (src/artifacts/place-output.ts).
import fs from 'node:fs/promises';

import { holdsOutput, type OutputBytes, placeOutput } from '../artifacts/place-output.js';
import { ConflictError } from '../domain/errors.js';
import { blobPath, hasBlob } from './blob-store.js';

/** Puts blob `o.sha256` at `target`. Idempotent: a target that holds it already is kept. */
export async function placeJobOutput(dataDir: string, target: string, o: OutputBytes): Promise<void> {
  if (await holdsOutput(target, o)) return;
  if (!(await hasBlob(dataDir, o.sha256)))
    throw new ConflictError(`blob ${o.sha256} is not in the store: PUT /v1/worker/blobs/${o.sha256} first`);
  try {
    await placeOutput(blobPath(dataDir, o.sha256), target, o);
  } catch (e) {
    // The upload's tar was whole (its hash was checked on the way in): a folder that unpacks differently is refused.
    throw Object.assign(new ConflictError((e as Error).message), { cause: e });
  }
  // A folder is kept unpacked (its download is the same tar again): its tar need not stay in the store as well.
  if (o.isDir) await fs.rm(blobPath(dataDir, o.sha256), { force: true });
}
