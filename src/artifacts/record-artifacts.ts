// Records artifacts (measured on disk) and the training's own outputs of a succeeded run: adapter folder, checkpoints.
import fs from 'node:fs';
import path from 'node:path';

import { listArtifactsOfRun, recordArtifact } from '../db/artifacts-repository.js';
import type { Db } from '../db/client.js';
import { ADAPTER_FILE } from '../domain/checkpoint-names.js';
import type { Artifact, ArtifactKind } from '../domain/follow-up-job.js';
import { newId } from '../domain/ids.js';
import type { Run } from '../domain/run.js';
import { measureArtifact } from './artifact-files.js';

export interface ArtifactInput {
  runId: string;
  jobId: string | null;
  kind: ArtifactKind;
  path: string;
  verified: boolean | null;
}

export async function recordPath(db: Db, input: ArtifactInput): Promise<Artifact> {
  const measured = await measureArtifact(input.path);
  return recordArtifact(db, { id: newId('art'), ...input, ...measured });
}

/**
 * A succeeded run's adapter folder and its checkpoints, recorded the first time anyone asks (runs that succeeded
 * before artifacts existed included). Files that are gone are skipped.
 */
export async function ensureTrainingArtifacts(db: Db, run: Run): Promise<void> {
  if (run.status !== 'succeeded') return;
  const known = new Set(listArtifactsOfRun(db, run.id).map((a) => a.path));
  const adapters = run.adapterPath;
  if (!known.has(adapters) && fs.existsSync(path.join(adapters, ADAPTER_FILE))) {
    await recordPath(db, { runId: run.id, jobId: null, kind: 'adapter', path: adapters, verified: null });
  }
  for (const name of run.checkpoints) {
    const file = path.join(adapters, name);
    if (!known.has(file) && fs.existsSync(file))
      await recordPath(db, { runId: run.id, jobId: null, kind: 'checkpoint', path: file, verified: null });
  }
}
