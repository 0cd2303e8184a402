// The HTTP shapes of a follow-up job and an artifact: ISO times, the download link.
import path from 'node:path';

import type { Artifact, FollowUpJob } from '../domain/follow-up-job.js';

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

export function jobView(job: FollowUpJob) {
  return {
    id: job.id,
    runId: job.runId,
    kind: job.kind,
    options: job.options,
    status: job.status,
    origin: job.origin,
    parentJobId: job.parentJobId,
    result: job.result,
    error: job.error,
    attempt: job.attempt,
    worker: job.worker,
    cancelRequestedAt: iso(job.cancelRequestedAt),
    createdAt: iso(job.createdAt),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
  };
}

export function artifactView(a: Artifact) {
  return {
    id: a.id,
    runId: a.runId,
    jobId: a.jobId,
    kind: a.kind,
    name: path.basename(a.path) + (a.isDir ? '.tar' : ''),
    path: a.path,
    isDir: a.isDir,
    bytes: a.bytes,
    sha256: a.sha256,
    verified: a.verified,
    createdAt: iso(a.createdAt),
    downloadUrl: `/v1/artifacts/${a.id}/download`,
  };
}
