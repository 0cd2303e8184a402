// The control plane's side of a follow-up job's start: for a delivery `<kind>:<job>:<n>`, the job moves queued ->
// running (compare-and-set, attempt n, the worker's name) and the worker gets what it needs to run it, its inputs
// by content hash. Idempotent: the same worker asking again for the same attempt gets the same answer.
import fs from 'node:fs/promises';
import path from 'node:path';

import type { JobInputFile, JobStartBody, JobStartOutcome } from '../contract/job-protocol.js';
import { listArtifactsOfRun } from '../db/artifacts-repository.js';
import type { Db } from '../db/client.js';
import { getJob, requireJob, transitionJob } from '../db/jobs-repository.js';
import { requireRun } from '../db/runs-repository.js';
import { ADAPTER_CONFIG_FILE, ADAPTER_FILE } from '../domain/checkpoint-names.js';
import { ConflictError } from '../domain/errors.js';
import { type FollowUpJob, isJobFinal } from '../domain/follow-up-job.js';
import type { Run } from '../domain/run.js';
import { jobLogOf } from '../domain/run-folder.js';
import { putBlobFromFile } from './blob-store.js';

/** The run's adapter files, put into the content store (a local run's are not there yet) and named by hash. */
async function adapterFiles(dataDir: string, run: Run): Promise<JobInputFile[]> {
  const out: JobInputFile[] = [];
  for (const name of [ADAPTER_CONFIG_FILE, ADAPTER_FILE]) {
    const file = path.join(run.adapterPath, name);
    if (!(await fs.stat(file).catch(() => undefined))?.isFile()) continue;
    const { sha256, bytes } = await putBlobFromFile(dataDir, file);
    out.push({ name, sha256, bytes, isDir: false });
  }
  return out;
}

/** The job before this one in its chain, with the model folder it made (an export's fuse). */
function parentOf(db: Db, job: FollowUpJob) {
  const parent = job.parentJobId ? getJob(db, job.parentJobId) : undefined;
  if (!parent) return null;
  const made = listArtifactsOfRun(db, parent.runId).find(
    (a) => a.jobId === parent.id && a.kind === 'fused_model',
  );
  return {
    id: parent.id,
    status: parent.status,
    error: parent.error,
    result: parent.result,
    output: made
      ? { name: path.basename(made.path), sha256: made.sha256, bytes: made.bytes, isDir: made.isDir }
      : null,
  };
}

async function logBytes(job: FollowUpJob): Promise<number> {
  return (await fs.stat(jobLogOf(job.jobDir)).catch(() => undefined))?.size ?? 0;
}

async function started(db: Db, dataDir: string, job: FollowUpJob): Promise<JobStartOutcome> {
  const run = requireRun(db, job.runId);
  return {
    outcome: 'started',
    job: {
      id: job.id,
      runId: job.runId,
      kind: job.kind,
      options: job.options,
      attempt: job.attempt,
      parentJobId: job.parentJobId,
    },
    run: {
      id: run.id,
      name: run.name,
      method: run.method,
      model: run.model,
      data: run.data,
      datasetSha: run.datasetSha,
      request: run.request,
      argv: run.argv,
    },
    adapter: await adapterFiles(dataDir, run),
    parent: parentOf(db, job),
    logBytes: await logBytes(job),
  };
}

export async function startJobReport(
  db: Db,
  dataDir: string,
  worker: string,
  jobId: string,
  body: JobStartBody,
): Promise<JobStartOutcome> {
  const job = requireJob(db, jobId);
  if (isJobFinal(job.status)) return { outcome: 'final', status: job.status };
  if (job.status === 'running') {
    if (job.attempt === body.jobAttempt && job.worker === worker) return started(db, dataDir, job);
    if (body.jobAttempt <= job.attempt)
      return {
        outcome: 'stale',
        reason: `the delivery is for attempt ${body.jobAttempt}, the job is at ${job.attempt}`,
      };
    return {
      outcome: 'busy',
      running: true,
      worker: job.worker,
      reason: `job ${job.id} runs attempt ${job.attempt} on ${job.worker ?? 'another worker'}`,
    };
  }
  // queued: only the delivery of its next attempt runs it (an older one is the dead worker's, returned by BullMQ).
  if (body.jobAttempt !== job.attempt + 1)
    return {
      outcome: 'stale',
      reason: `the delivery is for attempt ${body.jobAttempt}, the job waits for ${job.attempt + 1}`,
    };
  try {
    if (job.cancelRequestedAt !== null)
      return { outcome: 'final', status: transitionJob(db, job.id, 'queued', 'cancelled').status };
    const parent = job.parentJobId ? getJob(db, job.parentJobId) : undefined;
    if (parent && !isJobFinal(parent.status))
      return {
        outcome: 'busy',
        running: false,
        worker: null,
        reason: `job ${job.id} waits for ${parent.id} (${parent.kind}, ${parent.status})`,
      };
    const moved = transitionJob(db, job.id, 'queued', 'running', { worker, error: null });
    return await started(db, dataDir, moved);
  } catch (e) {
    // Someone moved it first (a cancel, another worker's start): ask again with what it is now.
    if (e instanceof ConflictError) return await startJobReport(db, dataDir, worker, jobId, body);
    throw e;
  }
}
