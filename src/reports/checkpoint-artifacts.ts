// Files a worker uploaded for a run, on the control plane: placed from the blob store into the run's own adapter
// folder (so downloads and the artifacts list work as for a local run) and recorded; the newest checkpoint is
// where the run resumes on another Mac.
import fs from 'node:fs/promises';
import path from 'node:path';

import { listArtifactsOfRun, recordArtifact } from '../db/artifacts-repository.js';
import type { Db } from '../db/client.js';
import { checkpointIteration } from '../domain/checkpoint-names.js';
import type { Artifact } from '../domain/follow-up-job.js';
import { newId } from '../domain/ids.js';
import type { Run } from '../domain/run.js';
import { blobPath } from './blob-store.js';

/**
 * Puts blob `sha256` at `<run adapter folder>/<name>` (temp file, then rename: never half a file). A file of the
 * same size already there (the local worker's own, or an earlier upload) is kept.
 */
export async function placeRunFile(
  dataDir: string,
  run: Run,
  name: string,
  sha256: string,
  bytes: number,
): Promise<string> {
  const target = path.join(run.adapterPath, name);
  const st = await fs.stat(target).catch(() => undefined);
  if (st?.isFile() && st.size === bytes) return target;
  await fs.mkdir(run.adapterPath, { recursive: true });
  const temp = `${target}.incoming`;
  await fs.copyFile(blobPath(dataDir, sha256), temp);
  await fs.rename(temp, target);
  return target;
}

/** Records an uploaded checkpoint file once (a replay finds the row and changes nothing). */
export function recordCheckpoint(
  db: Db,
  runId: string,
  file: string,
  sha256: string,
  bytes: number,
): Artifact {
  const same = listArtifactsOfRun(db, runId).find((a) => a.path === file);
  if (same && same.sha256 === sha256) return same;
  return recordArtifact(db, {
    id: newId('art'),
    runId,
    jobId: null,
    kind: 'checkpoint',
    path: file,
    isDir: false,
    bytes,
    sha256,
    verified: null,
  });
}

export interface CheckpointRecord {
  iteration: number;
  name: string;
  sha256: string;
  bytes: number;
}

/** The run's recorded checkpoints, newest (highest iteration) first. */
export function recordedCheckpoints(db: Db, runId: string): CheckpointRecord[] {
  return listArtifactsOfRun(db, runId)
    .filter((a) => a.kind === 'checkpoint' && !a.isDir)
    .map((a) => ({
      name: path.basename(a.path),
      sha256: a.sha256,
      bytes: a.bytes,
      iteration: checkpointIteration(path.basename(a.path)),
    }))
    .filter((c): c is CheckpointRecord => c.iteration !== null)
    .sort((a, b) => b.iteration - a.iteration);
}
