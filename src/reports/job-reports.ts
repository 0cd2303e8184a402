// The control plane's side of a follow-up job's attempt: its log by byte offset, the artifacts it made, the cancel
// poll and the finish. Only the worker that started the attempt writes for it, while it is the job's current one;
// every call is idempotent (a retried or replayed one changes nothing).
import fs from 'node:fs/promises';
import path from 'node:path';

import type {
  JobArtifactAnswer,
  JobArtifactBody,
  JobFinishBody,
  JobLogBody,
  JobState,
} from '../contract/job-protocol.js';
import { listArtifactsOfRun, recordArtifact } from '../db/artifacts-repository.js';
import type { Db } from '../db/client.js';
import { requireJob, transitionJob } from '../db/jobs-repository.js';
import { requireRun } from '../db/runs-repository.js';
import { ConflictError } from '../domain/errors.js';
import type { FollowUpJob } from '../domain/follow-up-job.js';
import { newId } from '../domain/ids.js';
import { jobLogOf, outputDirOf } from '../domain/run-folder.js';
import { StaleAttemptError } from './attempt-guard.js';
import { placeJobOutput } from './job-outputs.js';

/** The job, when `worker` may still write for its attempt `attempt`; StaleAttemptError (409) otherwise. */
export function requireOpenJob(db: Db, jobId: string, attempt: number, worker: string): FollowUpJob {
  const job = requireJob(db, jobId);
  if (job.attempt !== attempt || job.worker !== worker || job.status !== 'running')
    throw new StaleAttemptError(
      `attempt ${attempt} of job ${jobId} is over (the job is ${job.status} at attempt ${job.attempt} on ${job.worker ?? 'no worker'})`,
    );
  return job;
}

export function jobState(job: FollowUpJob): JobState {
  return {
    status: job.status,
    attempt: job.attempt,
    worker: job.worker,
    cancel: job.cancelRequestedAt !== null,
  };
}

/**
 * Appends the job log's bytes [offset, offset + length). A chunk ending at or before what is held was applied before
 * and changes nothing; one starting past it would leave a hole (409: the worker resends from what it is told).
 */
export async function jobLogReport(
  db: Db,
  worker: string,
  jobId: string,
  body: JobLogBody,
): Promise<{ accepted: number; duplicate: boolean }> {
  const job = requireJob(db, jobId);
  const file = jobLogOf(job.jobDir);
  const held = (await fs.stat(file).catch(() => undefined))?.size ?? 0;
  const bytes = Buffer.from(body.text, 'utf8');
  const end = body.offset + bytes.length;
  if (end <= held && bytes.length > 0) return { accepted: held, duplicate: true };
  requireOpenJob(db, jobId, body.attempt, worker);
  if (body.offset > held)
    throw new ConflictError(
      `log gap: the control plane holds ${held} bytes of job ${jobId}'s log, the chunk starts at ${body.offset}`,
    );
  await fs.mkdir(job.jobDir, { recursive: true });
  await fs.appendFile(file, bytes.subarray(held - body.offset));
  return { accepted: end, duplicate: false };
}

/** Where an artifact the worker made is kept on the control plane: its place in the run folder, or exports/. */
function targetOf(job: FollowUpJob, runDir: string, body: JobArtifactBody): string {
  return body.rel
    ? path.join(runDir, body.rel)
    : path.join(outputDirOf(runDir, 'exports', `${job.id}-${body.kind}`), body.name);
}

/**
 * Records an artifact of the job. Its bytes are in the blob store (PUT /v1/worker/blobs/:sha256 first) and are placed
 * into the run's folder, a folder unpacked from its tar and checked against the hash; `inPlace` (the worker inside the
 * control plane's process, which shares the disk) records the file where it is. A replayed record changes nothing.
 */
export async function jobArtifactReport(
  db: Db,
  dataDir: string,
  worker: string,
  jobId: string,
  body: JobArtifactBody,
  inPlace?: string,
): Promise<JobArtifactAnswer> {
  const job = requireJob(db, jobId);
  const run = requireRun(db, job.runId);
  const target = inPlace ?? targetOf(job, run.runDir, body);
  const same = listArtifactsOfRun(db, run.id).find(
    (a) => a.path === target && a.jobId === job.id && a.sha256 === body.sha256,
  );
  if (same) return { id: same.id, path: same.path, sha256: same.sha256 };
  requireOpenJob(db, jobId, body.attempt, worker);
  if (!inPlace) await placeJobOutput(dataDir, target, body);
  const a = recordArtifact(db, {
    id: newId('art'),
    runId: run.id,
    jobId: job.id,
    kind: body.kind,
    path: target,
    isDir: body.isDir,
    bytes: body.bytes,
    sha256: body.sha256,
    verified: body.verified,
  });
  return { id: a.id, path: a.path, sha256: a.sha256 };
}

/** The cancel poll: whether the job must stop; 409 stale_attempt once the attempt is not the job's current one. */
export function jobControl(db: Db, worker: string, jobId: string, attempt: number): JobState {
  return jobState(requireOpenJob(db, jobId, attempt, worker));
}

/** Records how the attempt ended (once); a finish replayed after it was recorded answers the job as it is. */
export function finishJobReport(db: Db, worker: string, jobId: string, body: JobFinishBody): JobState {
  const job = requireJob(db, jobId);
  if (job.attempt === body.attempt && job.worker === worker && job.status === body.outcome)
    return jobState(job);
  requireOpenJob(db, jobId, body.attempt, worker);
  const patch = body.outcome === 'queued' ? { error: null } : { result: body.result, error: body.error };
  return jobState(transitionJob(db, jobId, 'running', body.outcome, patch));
}
