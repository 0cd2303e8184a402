// Runs table access: read, progress and retry state, cancel requests, warnings, delete. Creating runs
// (run-inserts.ts), status changes (run-transitions.ts), attempts, events and lists are re-exported from here.
import { and, eq, inArray, sql } from 'drizzle-orm';

import { type FieldIssue, NotFoundError } from '../domain/errors.js';
import type { Run } from '../domain/run.js';
import { ACTIVE_STATUSES, type RunStatus } from '../domain/run-status.js';
import type { Db } from './client.js';
import { perDb } from './per-db.js';
import { definedOnly, type ProgressPatch } from './run-transitions.js';
import { runs } from './schema.js';
import { withTransaction } from './transaction.js';

export {
  closeOpenAttempt,
  type FinishAttempt,
  finishAttempt,
  listAttempts,
  type StartAttempt,
  startAttempt,
} from './run-attempts-repository.js';
export { listRunEvents, recordRunEvent } from './run-events-repository.js';
export { insertRun, insertRuns } from './run-inserts.js';
export {
  type EventNote,
  noteParts,
  type ProgressPatch,
  type RunPatch,
  transitionRun,
} from './run-transitions.js';
export { listRuns, type ListRunsFilter } from './runs-list.js';

const getRunStatement = perDb((db) =>
  db
    .select()
    .from(runs)
    .where(eq(runs.id, sql.placeholder('id')))
    .prepare(),
);

export function getRun(db: Db, id: string): Run | undefined {
  return getRunStatement(db).get({ id });
}

/** Like getRun, but throws NotFoundError. */
export function requireRun(db: Db, id: string): Run {
  const run = getRun(db, id);
  if (run === undefined) throw new NotFoundError('Run', id);
  return run;
}

export function findRunByIdempotencyKey(db: Db, key: string): Run | undefined {
  return db.select().from(runs).where(eq(runs.idempotencyKey, key)).get();
}

/**
 * Records progress, latest losses, log counters or the trainer pid; never touches status.
 * Returns false when the run does not exist.
 */
export function updateRunProgress(db: Db, id: string, patch: ProgressPatch): boolean {
  const values = definedOnly(patch);
  if (Object.keys(values).length === 0) return getRun(db, id) !== undefined;
  const result = db
    .update(runs)
    .set({ ...values, updatedAt: Date.now() })
    .where(eq(runs.id, id))
    .run();
  return result.changes > 0;
}

/** Records a retry decision that keeps the status: the backoff's end and the worker-error count. */
export function setRetryState(
  db: Db,
  id: string,
  state: { notBefore: number | null; workerErrors?: number },
): void {
  db.update(runs)
    .set({ ...definedOnly(state), updatedAt: Date.now() })
    .where(eq(runs.id, id))
    .run();
}

/**
 * Flags an active run for cancellation (the worker stops the trainer, then moves the run to cancelled).
 * Keeps the first request time. Returns false when the run is missing or already final.
 */
export function requestCancel(db: Db, id: string, at = Date.now()): boolean {
  const result = db
    .update(runs)
    .set({ cancelRequestedAt: sql`coalesce(${runs.cancelRequestedAt}, ${at})`, updatedAt: at })
    .where(and(eq(runs.id, id), inArray(runs.status, ACTIVE_STATUSES)))
    .run();
  return result.changes > 0;
}

/**
 * Removes a run whose job could not be enqueued, so no run stays queued without a job. Only a queued run that
 * never started may go; its tags and events go with it (ON DELETE CASCADE). Returns whether a row was deleted.
 */
export function deleteRun(db: Db, id: string): boolean {
  const result = db
    .delete(runs)
    .where(and(eq(runs.id, id), eq(runs.status, 'queued'), eq(runs.attempt, 0)))
    .run();
  return result.changes > 0;
}

/** How many runs are in any of `statuses` (e.g. the queued-runs limit). Counted from the status index. */
export function countRunsByStatus(db: Db, statuses: readonly RunStatus[]): number {
  if (statuses.length === 0) return 0;
  const row = db
    .select({ n: sql<number>`count(*)` })
    .from(runs)
    .where(inArray(runs.status, statuses))
    .get();
  return row?.n ?? 0;
}

/** Adds a warning to a run (once: the same message is not added twice). */
export function addRunWarning(db: Db, id: string, warning: FieldIssue): void {
  withTransaction(db, () => {
    const run = db.select({ warnings: runs.warnings }).from(runs).where(eq(runs.id, id)).get();
    if (run === undefined || run.warnings.some((w) => w.message === warning.message)) return;
    db.update(runs)
      .set({ warnings: [...run.warnings, warning] })
      .where(eq(runs.id, id))
      .run();
  });
}
