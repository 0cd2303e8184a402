// Where a run's jobs wait, read from SQLite: the run of each follow-up job, and the columns of a run's placement for
// the reconciler's queries. Both end in runRequirement (src/shared/run-queues.ts), the one routing function.
import { sql } from 'drizzle-orm';

import type { Db } from '../db/client.js';
import { getRun } from '../db/runs-repository.js';
import { runs } from '../db/schema.js';
import { DEFAULT_MEMORY_MARGIN } from '../domain/memory-advice.js';
import type { Placement, Requirement } from '../domain/placement.js';
import { enqueueFollowUps, type FollowUpToQueue } from '../shared/follow-up-queue.js';
import { type PlacedRun, type RunQueues, runRequirement } from '../shared/run-queues.js';

/** A job whose run is gone waits where any worker may take it (its handler then finds nothing to do). */
const UNPLACED: PlacedRun = { request: {}, memory: null };

/** Each job with its run (read once per run). */
export function withRuns(
  db: Db,
  jobs: readonly (FollowUpToQueue['job'] & { runId: string })[],
): FollowUpToQueue[] {
  const seen = new Map<string, PlacedRun>();
  return jobs.map((job) => {
    let run = seen.get(job.runId);
    if (!run) {
      run = getRun(db, job.runId) ?? UNPLACED;
      seen.set(job.runId, run);
    }
    return { job, run };
  });
}

/** Queues the jobs' next attempts, each in its run's queue. */
export async function queueFollowUps(
  db: Db,
  queues: RunQueues,
  jobs: readonly (FollowUpToQueue['job'] & { runId: string })[],
  margin: number,
): Promise<void> {
  await enqueueFollowUps(queues, withRuns(db, jobs), margin);
}

/** Only what decides a run's queue, not the whole request and memory documents. */
export const placementColumns = {
  placement: sql<string | null>`json_extract(${runs.request}, '$.placement')`,
  estimateGb: sql<number | null>`json_extract(${runs.memory}, '$.estimate_gb')`,
  margin: sql<number | null>`json_extract(${runs.memory}, '$.margin')`,
};

/** The requirement of a row read with placementColumns. */
export function requirementOfRow(r: {
  placement: string | null;
  estimateGb: number | null;
  margin: number | null;
}): Requirement {
  const placement = r.placement === null ? undefined : (JSON.parse(r.placement) as Placement);
  return runRequirement(
    {
      request: { placement },
      memory: { estimate_gb: r.estimateGb, margin: r.margin ?? DEFAULT_MEMORY_MARGIN },
    },
    DEFAULT_MEMORY_MARGIN,
  );
}
