// Where a follow-up job runs on this worker and what it needs there: the job's folders under this worker's DATA_DIR
// (the control plane's own on the worker inside its process), the run's adapter files and an export's fused model,
// fetched by content hash unless this worker holds the same bytes already.
import fs from 'node:fs/promises';
import path from 'node:path';

import { holdsOutput, placeOutput } from '../../artifacts/place-output.js';
import type { JobStartedAnswer } from '../../contract/job-protocol.js';
import { adapterDirOf, jobDirOf, outputDirOf, runDirOf } from '../../domain/run-folder.js';
import { hashFile } from '../../shared/file-hash.js';
import type { JobReporter } from '../job-reporter.js';

export interface JobPlace {
  runDir: string;
  adapterPath: string;
  jobDir: string;
}

export function placeOf(dataDir: string, started: JobStartedAnswer): JobPlace {
  const runDir = runDirOf(dataDir, started.run.id);
  return { runDir, adapterPath: adapterDirOf(runDir), jobDir: jobDirOf(runDir, started.job.id) };
}

async function holdsFile(file: string, sha256: string): Promise<boolean> {
  if (!(await fs.stat(file).catch(() => undefined))?.isFile()) return false;
  return (await hashFile(file)).sha256 === sha256;
}

/**
 * Fetches the run's adapter files and the fused model of the job before this one; returns that model's folder on
 * this worker (null when the chain has none). A worker sharing the control plane's disk finds them in place.
 */
export async function fetchJobInputs(
  reporter: JobReporter,
  started: JobStartedAnswer,
  place: JobPlace,
): Promise<string | null> {
  const parent = started.parent;
  if (reporter.sharesDisk) return typeof parent?.result?.path === 'string' ? parent.result.path : null;
  await fs.mkdir(place.adapterPath, { recursive: true });
  for (const f of started.adapter) {
    const local = path.join(place.adapterPath, f.name);
    if (!(await holdsFile(local, f.sha256))) await reporter.fetchBlob(f.sha256, local);
  }
  const output = parent?.output;
  if (!output) return null;
  const local = outputDirOf(place.runDir, 'fused', output.name);
  if (await holdsOutput(local, output)) return local;
  await fs.mkdir(path.dirname(local), { recursive: true });
  const download = `${local}.download`;
  try {
    await reporter.fetchParentOutput(started.job.id, output.sha256, download);
    await placeOutput(download, local, output);
  } finally {
    await fs.rm(download, { force: true });
  }
  return local;
}

/** An artifact's place in the run's folder (`fused/<job>`), or null for one written outside it (LM Studio's folder). */
export function relInRun(runDir: string, target: string): string | null {
  const rel = path.relative(runDir, target);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? null : rel.split(path.sep).join('/');
}

/**
 * The result as the control plane records it: paths this worker wrote are replaced by where the control plane
 * keeps the uploaded copy; the worker's own path stays in `worker_path` when it differs.
 */
export function resultAtControlPlane(
  result: Record<string, unknown>,
  placed: ReadonlyMap<string, string>,
): Record<string, unknown> {
  const own = typeof result.path === 'string' ? result.path : undefined;
  const there = own === undefined ? undefined : placed.get(own);
  if (own === undefined || there === undefined || there === own) return result;
  return { ...result, path: there, worker_path: own };
}
