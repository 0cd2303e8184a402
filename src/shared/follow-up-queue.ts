// Follow-up jobs on the runs' queues: their job names, payload, BullMQ job ids and options (from job-kinds.ts), and
// the queue each waits in: its run's placement queue, so only a worker that could train the run takes its follow-ups.
import type { JobsOptions } from 'bullmq';

import type { JobKindName } from '../domain/follow-up-job.js';
import { jobFor } from './job-kinds.js';
import type { PlacedRun, RunQueues } from './run-queues.js';

/** `<kind>:<job id>:<n>` from the job-kind catalogue: every attempt has its own BullMQ id. */
export function followUpJobOptions(kind: JobKindName, jobId: string, n = 1): JobsOptions & { jobId: string } {
  return jobFor(kind, { jobId }, n).opts;
}

/** A follow-up job to queue and its run (whose placement and memory estimate decide the queue). */
export interface FollowUpToQueue {
  job: { id: string; kind: JobKindName; attempt?: number };
  run: PlacedRun;
}

/**
 * Queues each job's next attempt, `<kind>:<job>:<attempt + 1>`, in its run's queue: a fresh job's 1, and a new id for
 * a job whose worker died (queued again by job-recovery.ts) while the dead worker's BullMQ job is still locked.
 */
export async function enqueueFollowUps(
  queues: RunQueues,
  items: readonly FollowUpToQueue[],
  margin: number,
): Promise<void> {
  await queues.addRunJobs(
    items.map(({ job, run }) => ({ run, job: jobFor(job.kind, { jobId: job.id }, (job.attempt ?? 0) + 1) })),
    margin,
  );
}
