// Dispatches a BullMQ job to its kind's handler by job name, after parsing its payload with the catalogue's schema.
import { type Job, UnrecoverableError } from 'bullmq';

import { isJobKind, JOB_KINDS, type JobKind, type JobPayload } from '../shared/job-kinds.js';

export type JobHandler<K extends JobKind> = (
  payload: JobPayload<K>,
  job: Job,
  token: string | undefined,
) => Promise<unknown>;

/** One handler per kind of the catalogue (src/shared/job-kinds.ts); a kind without one is a compile error. */
export type JobHandlers = { readonly [K in JobKind]: JobHandler<K> };

/** The BullMQ processor: unknown kinds and invalid payloads fail for good (retrying cannot fix them). */
export function createDispatcher(handlers: JobHandlers): (job: Job, token?: string) => Promise<unknown> {
  return async (job, token) => {
    if (!isJobKind(job.name))
      throw new UnrecoverableError(
        `Unknown job kind "${job.name}"; this worker knows ${Object.keys(JOB_KINDS).join(', ')}`,
      );
    const parsed = JOB_KINDS[job.name].payload.safeParse(job.data);
    if (!parsed.success)
      throw new UnrecoverableError(`Invalid ${job.name} job payload: ${parsed.error.message}`);
    const handler = handlers[job.name] as JobHandler<JobKind>;
    return handler(parsed.data, job, token);
  };
}
