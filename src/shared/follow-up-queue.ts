// Follow-up jobs on the runs queue: their job names, payload, and BullMQ job ids and options (from job-kinds.ts).
import type { JobsOptions, Queue } from 'bullmq';

import type { JobKindName } from '../domain/follow-up-job.js';
import { jobFor } from './job-kinds.js';
import { addJobs } from './queue.js';

/** `<kind>:<job id>:<n>` from the job-kind catalogue: every attempt has its own BullMQ id. */
export function followUpJobOptions(kind: JobKindName, jobId: string, n = 1): JobsOptions & { jobId: string } {
  return jobFor(kind, { jobId }, n).opts;
}

/**
 * Queues each job's next attempt, `<kind>:<job>:<attempt + 1>`: a fresh job's 1, and a new id for a job whose worker
 * died (queued again by job-recovery.ts) while the dead worker's BullMQ job is still locked.
 */
export async function enqueueFollowUps(
  queue: Queue,
  jobs: readonly { id: string; kind: JobKindName; attempt?: number }[],
): Promise<void> {
  await addJobs(
    queue,
    jobs.map((j) => jobFor(j.kind, { jobId: j.id }, (j.attempt ?? 0) + 1)),
  );
}
