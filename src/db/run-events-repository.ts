// A run's history (run_events): status changes are written by transitionRun; decisions that keep the status here.
import { asc, eq } from 'drizzle-orm';

import { NotFoundError } from '../domain/errors.js';
import type { RunEvent } from '../domain/run.js';
import type { Db } from './client.js';
import { runEvents, runs } from './schema.js';

/** Oldest first; the first event is always null -> queued. */
export function listRunEvents(db: Db, runId: string): RunEvent[] {
  return db.select().from(runEvents).where(eq(runEvents.runId, runId)).orderBy(asc(runEvents.id)).all();
}

/**
 * Records a decision that leaves the status as it is (fromStatus = toStatus): a retry before the run started, a
 * job re-added by the reconciler, an error on the resume path. Returns the event's id.
 */
export function recordRunEvent(
  db: Db,
  runId: string,
  reason: string,
  delayMs: number | null = null,
  at = Date.now(),
): number {
  const run = db
    .select({ status: runs.status, attempt: runs.attempt })
    .from(runs)
    .where(eq(runs.id, runId))
    .get();
  if (run === undefined) throw new NotFoundError('Run', runId);
  const row = db
    .insert(runEvents)
    .values({
      runId,
      fromStatus: run.status,
      toStatus: run.status,
      attempt: run.attempt,
      reason,
      delayMs,
      at,
    })
    .returning({ id: runEvents.id })
    .get();
  return row.id;
}
