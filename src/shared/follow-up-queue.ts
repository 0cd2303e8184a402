// Follow-up jobs on the runs queue: their job names, payload, BullMQ job ids and options.
import { type JobsOptions, type Queue, UnrecoverableError } from 'bullmq';
import { z } from 'zod';

import { JOB_KIND_NAMES, type JobKindName } from '../domain/follow-up-job.js';

export const FOLLOW_UP_PAYLOAD = z.object({ jobId: z.string().min(1).max(200).regex(/^[^:]+$/) });

export function isFollowUpJobName(name: string): name is JobKindName {
  return (JOB_KIND_NAMES as readonly string[]).includes(name);
}

export function parseFollowUpPayload(data: unknown): { jobId: string } {
  const parsed = FOLLOW_UP_PAYLOAD.safeParse(data);
  if (!parsed.success) throw new UnrecoverableError(`Invalid follow-up job payload: ${parsed.error.message}`);
  return parsed.data;
}

/**
 * Follow-ups of a finished run go ahead of runs queued later: BullMQ runs lower priorities first and a run's is
 * 101 - its priority (1..201), so 1 puts a follow-up ahead of every run but one of priority 100 queued before it.
 */
export const FOLLOW_UP_PRIORITY = 1;

/** `<kind>:<job id>:<n>`: every attempt of a job has its own BullMQ id, so a kept old job never blocks a new one. */
export function followUpJobOptions(kind: JobKindName, jobId: string, n = 1): JobsOptions & { jobId: string } {
  return {
    jobId: `${kind}:${jobId}:${n}`,
    priority: FOLLOW_UP_PRIORITY,
    attempts: 1,
    removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
  };
}

export async function enqueueFollowUps(queue: Queue, jobs: readonly { id: string; kind: JobKindName }[]): Promise<void> {
  if (jobs.length === 0) return;
  await queue.addBulk(jobs.map((j) => ({ name: j.kind, data: { jobId: j.id }, opts: followUpJobOptions(j.kind, j.id) })));
}
