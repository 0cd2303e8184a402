// A remote worker's view of a run's inputs: an upload (`dataset:<sha256>`) comes from its cache (downloaded from the
// control plane on a miss); a path (the data folder, a local model, a reward or adapter file) is a path on the Mac
// that trains. The control plane checked it on its own disk at submit; this Mac sees it only on shared storage, so
// each is checked here before the trainer starts, and a missing one fails the run with that reason.
import fs from 'node:fs/promises';
import path from 'node:path';

import { type FieldIssue, RequestValidationError } from '../../domain/errors.js';
import { looksLikePath } from '../../domain/local-path.js';
import type { DatasetCache } from './dataset-cache.js';

const UPLOAD = /^dataset:([0-9a-f]{64})$/;

/** Fields naming a folder on disk when their value is a path (else a Hugging Face repo id), and fields naming a file. */
const MODEL_FIELDS = {
  model: 'model path',
  reference_model_path: 'reference model path',
  judge: 'judge model path',
} as const;
const FILE_FIELDS = {
  reward_functions_file: 'reward functions file',
  resume_adapter_file: 'resume adapter file',
} as const;

/** "model path /x not found on worker mbp-2: paths need shared storage; <what to do instead>". */
function missing(
  field: string,
  what: string,
  value: string,
  workerName: string,
  instead: string,
): FieldIssue {
  return {
    path: field,
    message: `${what} ${value} not found on worker ${workerName}: paths need shared storage; ${instead}`,
  };
}

function refuse(issues: FieldIssue[]): never {
  throw new RequestValidationError(issues, issues.map((i) => i.message).join('; '));
}

async function kind(p: string): Promise<'dir' | 'file' | null> {
  const st = await fs.stat(p).catch(() => undefined);
  return st ? (st.isDirectory() ? 'dir' : 'file') : null;
}

export function createRemoteDataResolver(cache: DatasetCache, workerName: string) {
  return async function resolveData(data: string): Promise<string> {
    const m = UPLOAD.exec(data);
    if (m) return (await cache.get(m[1]!)).dir;
    const dir = path.resolve(data);
    if ((await kind(dir)) !== 'dir')
      refuse([
        missing(
          'data',
          'data folder',
          dir,
          workerName,
          'upload it instead (POST /v1/datasets, then data: dataset:<sha256>)',
        ),
      ]);
    return dir;
  };
}

/**
 * Throws a RequestValidationError (the run fails: no retry finds the path) naming every path of the request that
 * this worker cannot see. A model value that does not look like a path is a repo id the trainer downloads.
 */
export function createRemotePathCheck(workerName: string) {
  return async function checkPaths(request: Record<string, unknown>): Promise<void> {
    const issues: FieldIssue[] = [];
    for (const [field, what] of Object.entries(MODEL_FIELDS)) {
      const v = request[field];
      if (typeof v !== 'string' || !looksLikePath(v)) continue;
      const p = path.resolve(v);
      if ((await kind(p)) !== 'dir')
        issues.push(
          missing(field, what, p, workerName, 'name a Hugging Face repo id instead (each Mac downloads it)'),
        );
    }
    for (const [field, what] of Object.entries(FILE_FIELDS)) {
      const v = request[field];
      if (typeof v !== 'string') continue;
      const p = path.resolve(v);
      if ((await kind(p)) !== 'file')
        issues.push(missing(field, what, p, workerName, 'put it on storage every Mac mounts at this path'));
    }
    if (issues.length > 0) refuse(issues);
  };
}
