// Run status changes: the compare-and-set transition with its side effects, its event and the final-status hooks.
import { and, eq, sql } from 'drizzle-orm';

import { ConflictError, NotFoundError } from '../domain/errors.js';
import type { Run } from '../domain/run.js';
import { assertTransition, isFinal, type RunStatus } from '../domain/run-status.js';
import type { Db } from './client.js';
import { runFinalStatusHooks } from './final-status-hooks.js';
import { runEvents, runs } from './schema.js';
import { withTransaction } from './transaction.js';

/** Fields that change while a run trains, without a status change (updateRunProgress). */
export type ProgressPatch = Partial<
  Pick<
    Run,
    | 'progressIteration'
    | 'progressTotal'
    | 'latestLoss'
    | 'latestValLoss'
    | 'logBytes'
    | 'logLines'
    | 'trainerPid'
    | 'checkpoints'
    | 'mlxVersion'
  >
>;

/** Fields a status change may set alongside the status: the progress fields and these. */
export type RunPatch = ProgressPatch &
  Partial<
    Pick<
      Run,
      | 'adapterFile'
      | 'error'
      | 'exitCode'
      | 'signal'
      | 'environment'
      | 'warnings'
      | 'worker'
      | 'stopReason'
      | 'datasetSha'
      | 'queuedAt'
      | 'startedAt'
      | 'finishedAt'
      | 'durationMs'
      | 'attempt'
      | 'notBefore'
      | 'workerErrors'
      | 'peakMemoryGb'
      | 'outOfMemory'
      | 'request'
      | 'argv'
    >
  >;

/** A status change's reason, and for a retry decision the delay before the next attempt. */
export type EventNote = string | { reason: string; delayMs?: number | null };

export function noteParts(note: EventNote | undefined): { reason: string | null; delayMs: number | null } {
  if (note === undefined) return { reason: null, delayMs: null };
  return typeof note === 'string'
    ? { reason: note, delayMs: null }
    : { reason: note.reason, delayMs: note.delayMs ?? null };
}

/**
 * Compare-and-set status change: `UPDATE … WHERE id = ? AND status = <current>`, plus its run_event, in one
 * IMMEDIATE transaction. Throws InvalidTransitionError when a `from` status cannot reach `to` (a bug in the
 * caller), NotFoundError when the run does not exist, and ConflictError when the run is not in `from` (someone
 * else moved it first, e.g. a cancel racing the worker).
 *
 * Side effects by target, each overridable through `patch`:
 * - running: attempt + 1 (each entry into running is a new attempt), started_at set on the first start only;
 * - queued: queued_at = now;
 * - a final status: finished_at = now, duration_ms = finished_at - started_at;
 * - leaving running: trainer_pid cleared (a stale pid could later name an unrelated process).
 *
 * A move to a final status runs the final-status hooks (final-status-hooks.ts) in the same transaction.
 */
export function transitionRun(
  db: Db,
  id: string,
  from: RunStatus | readonly RunStatus[],
  to: RunStatus,
  patch: RunPatch = {},
  note?: EventNote,
): Run {
  const fromList: readonly RunStatus[] = typeof from === 'string' ? [from] : from;
  if (fromList.length === 0) throw new TypeError('transitionRun needs at least one from status');
  for (const status of fromList) assertTransition(status, to);
  const now = Date.now();
  return withTransaction(db, () => {
    const current = db.select({ status: runs.status }).from(runs).where(eq(runs.id, id)).get();
    if (current === undefined) throw new NotFoundError('Run', id);
    if (!fromList.includes(current.status)) {
      throw new ConflictError(
        `Run ${id} is ${current.status}, not ${fromList.join(' or ')}; cannot move it to ${to}`,
      );
    }
    const updated = db
      .update(runs)
      .set({ ...statusSideEffects(to, now, patch), ...definedOnly(patch), status: to, updatedAt: now })
      .where(and(eq(runs.id, id), eq(runs.status, current.status)))
      .returning()
      .get();
    // Unreachable while the write lock is held since the read above; kept so the CAS invariant never rests on it.
    if (updated === undefined)
      throw new ConflictError(`Run ${id} changed status concurrently; cannot move it to ${to}`);
    db.insert(runEvents)
      .values({
        runId: id,
        fromStatus: current.status,
        toStatus: to,
        attempt: updated.attempt,
        ...noteParts(note),
        at: now,
      })
      .run();
    if (isFinal(updated.status))
      runFinalStatusHooks(db, { run: { ...updated, status: updated.status }, from: current.status, at: now });
    return updated;
  });
}

function statusSideEffects(to: RunStatus, now: number, patch: RunPatch) {
  if (to === 'running') {
    return { attempt: sql`${runs.attempt} + 1`, startedAt: sql`coalesce(${runs.startedAt}, ${now})` };
  }
  const leavesRunning = { trainerPid: null };
  if (to === 'queued') return { ...leavesRunning, queuedAt: now };
  if (isFinal(to)) {
    const finishedAt = patch.finishedAt ?? now;
    const startedAt = patch.startedAt ?? runs.startedAt;
    return { ...leavesRunning, finishedAt, durationMs: sql`${finishedAt} - ${startedAt}` };
  }
  return leavesRunning;
}

/** Drops keys whose value is undefined, so `{ error: undefined }` leaves the column alone. */
export function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
