// The reconciler's sources for follow-up jobs (one per kind): every queued job row must have a live BullMQ job, its
// next attempt's `<kind>:<job>:<attempt + 1>`; a waiting job of a job that is final, missing or on another attempt
// is stale. A job waits in its run's queue (its placement), as the run's train jobs do.
import { and, asc, eq } from 'drizzle-orm';

import type { Db } from '../db/client.js';
import { getJob } from '../db/jobs-repository.js';
import { recordRunEvent } from '../db/runs-repository.js';
import { jobs, runs } from '../db/schema.js';
import { type FollowUpJob, JOB_KIND_NAMES, type JobKindName } from '../domain/follow-up-job.js';
import { jobFor, jobIdOf } from '../shared/job-kinds.js';
import type { ReconcileSource } from './queue-reconciler.js';
import { placementColumns, requirementOfRow } from './run-placement.js';

/** The BullMQ id a queued job waits under (the outbox and the worker's requeues use the same). */
export function followUpJobIdFor(job: Pick<FollowUpJob, 'id' | 'kind' | 'attempt' | 'status'>): string {
  // A running job's own delivery is its current attempt's; a queued one waits for its next.
  return jobIdOf(job.kind, job.id, job.status === 'queued' ? job.attempt + 1 : Math.max(1, job.attempt));
}

export function followUpSource(kind: JobKindName): ReconcileSource {
  return {
    kind,
    wanted(db: Db) {
      // jobs_status_idx: oldest first, so re-added jobs keep their order.
      const rows = db
        .select({ id: jobs.id, attempt: jobs.attempt, ...placementColumns })
        .from(jobs)
        .leftJoin(runs, eq(runs.id, jobs.runId))
        .where(and(eq(jobs.status, 'queued'), eq(jobs.kind, kind)))
        .orderBy(asc(jobs.createdAt), asc(jobs.id))
        .all();
      return rows.map((r) => ({
        subject: r.id,
        job: jobFor(kind, { jobId: r.id }, r.attempt + 1),
        requirement: requirementOfRow(r),
      }));
    },
    stillWanted(db, subject, jobId) {
      const job = getJob(db, subject);
      return job?.status === 'queued' && followUpJobIdFor(job) === jobId;
    },
    isCurrent(db, subject, jobId) {
      const job = getJob(db, subject);
      // A running job's waiting delivery (its worker stalled) is left for the worker, which reclaims or drops it.
      return (
        job !== undefined &&
        (job.status === 'queued' || job.status === 'running') &&
        followUpJobIdFor(job) === jobId
      );
    },
    record(db, subject, reason) {
      const job = getJob(db, subject);
      if (job) recordRunEvent(db, job.runId, `follow-up job ${job.id} (${job.kind}) ${reason}`);
    },
  };
}

export const FOLLOW_UP_SOURCES: readonly ReconcileSource[] = JOB_KIND_NAMES.map(followUpSource);
