// The reconciler's source for train jobs: which runs must have a live job (queued, interrupted), which job each
// needs (its next attempt's, held back until its backoff ends), and whether a waiting train job is still current.
import { inArray } from 'drizzle-orm';

import type { Db } from '../db/client.js';
import { getRun, recordRunEvent } from '../db/runs-repository.js';
import { runs } from '../db/schema.js';
import { nextTrainJob, trainJobIdFor } from '../shared/job-kinds.js';
import type { ReconcileSource } from './queue-reconciler.js';
import { placementColumns, requirementOfRow } from './run-placement.js';

const WAITING = ['queued', 'interrupted'] as const;

export const trainSource: ReconcileSource = {
  kind: 'train',
  wanted(db: Db, now: number) {
    // One query on runs_status_created_idx: oldest first, so re-added jobs of equal priority keep their order.
    const rows = db
      .select({
        id: runs.id,
        attempt: runs.attempt,
        priority: runs.priority,
        notBefore: runs.notBefore,
        ...placementColumns,
      })
      .from(runs)
      .where(inArray(runs.status, WAITING))
      .orderBy(runs.createdAt, runs.id)
      .all();
    return rows.map((r) => ({
      subject: r.id,
      job: nextTrainJob(r, now),
      requirement: requirementOfRow(r),
    }));
  },
  stillWanted(db, subject, jobId) {
    const run = getRun(db, subject);
    return (
      run !== undefined &&
      (run.status === 'queued' || run.status === 'interrupted') &&
      trainJobIdFor(run) === jobId
    );
  },
  isCurrent(db, subject, jobId) {
    const run = getRun(db, subject);
    if (run === undefined) return false;
    // Final runs need no job; a waiting job of another attempt than the run's current one is stale.
    return (
      run.status !== 'succeeded' &&
      run.status !== 'failed' &&
      run.status !== 'cancelled' &&
      trainJobIdFor(run) === jobId
    );
  },
  record(db, subject, reason) {
    recordRunEvent(db, subject, reason);
  },
};
