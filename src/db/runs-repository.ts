// Runs table access: create (with tags and the first event), read, compare-and-set status changes, progress.
import { and, eq, inArray, sql } from 'drizzle-orm';

import { ConflictError, type FieldIssue, NotFoundError } from '../domain/errors.js';
import type { NewRun, Run } from '../domain/run.js';
import { ACTIVE_STATUSES, assertTransition, isFinal, type RunStatus } from '../domain/run-status.js';
import type { Db } from './client.js';
import { runFinalStatusHooks } from './final-status-hooks.js';
import { perDb } from './per-db.js';
import { runEvents, runs, runTags } from './schema.js';
import { isUniqueViolation, sqliteErrorMessage, withCause } from './sqlite-errors.js';
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
export { listRuns, type ListRunsFilter } from './runs-list.js';

type RunRow = typeof runs.$inferSelect;
// Compile-time check that the table and the domain type agree, field for field.
const asRun = (row: RunRow): Run => row;

/** Fields a status change may set alongside the status. */
export type RunPatch = Partial<
  Pick<
    Run,
    | 'adapterFile'
    | 'checkpoints'
    | 'error'
    | 'exitCode'
    | 'signal'
    | 'mlxVersion'
    | 'environment'
    | 'warnings'
    | 'worker'
    | 'trainerPid'
    | 'stopReason'
    | 'progressIteration'
    | 'progressTotal'
    | 'latestLoss'
    | 'latestValLoss'
    | 'logBytes'
    | 'logLines'
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

/** Fields that change while a run trains, without a status change. */
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

/** Bound parameters per statement stay well under SQLite's 32,766 limit (runs has 43 columns). */
const INSERT_CHUNK = 200;

/** Creates a queued run, its tag rows and its first event (null -> queued) in one transaction. */
export function insertRun(db: Db, input: NewRun): Run {
  const [run] = insertRuns(db, [input]);
  if (run === undefined) throw new Error('insertRuns returned no row');
  return run;
}

/**
 * Creates many queued runs (a sweep) in one transaction: all or none. Returns them in input order.
 * A duplicate id or idempotency key throws ConflictError and rolls back the whole batch.
 */
export function insertRuns(db: Db, inputs: readonly NewRun[], now = Date.now()): Run[] {
  if (inputs.length === 0) return [];
  return withTransaction(db, () => {
    const byId = new Map<string, Run>();
    for (let i = 0; i < inputs.length; i += INSERT_CHUNK) {
      const chunk = inputs.slice(i, i + INSERT_CHUNK);
      for (const row of insertRunRows(db, chunk, now)) byId.set(row.id, asRun(row));
      const tags = chunk.flatMap((r) => [...new Set(r.tags ?? [])].map((tag) => ({ runId: r.id, tag })));
      if (tags.length > 0) db.insert(runTags).values(tags).run();
      db.insert(runEvents)
        .values(
          chunk.map((r) => ({
            runId: r.id,
            fromStatus: null,
            toStatus: 'queued' as const,
            attempt: 0,
            reason: 'created',
            at: r.createdAt ?? now,
          })),
        )
        .run();
    }
    return inputs.map((r) => {
      const run = byId.get(r.id);
      if (run === undefined) throw new Error(`run ${r.id} was not returned by its INSERT`);
      return run;
    });
  });
}

function insertRunRows(db: Db, chunk: readonly NewRun[], now: number): RunRow[] {
  const values = chunk.map((r) => {
    const createdAt = r.createdAt ?? now;
    return {
      id: r.id,
      name: r.name ?? null,
      method: r.method,
      trainMode: r.trainMode,
      model: r.model,
      data: r.data,
      status: 'queued' as const,
      priority: r.priority ?? 0,
      tags: r.tags ?? [],
      request: r.request,
      argv: r.argv,
      configYaml: r.configYaml,
      warnings: r.warnings ?? [],
      runDir: r.runDir,
      adapterPath: r.adapterPath,
      sweepId: r.sweepId ?? null,
      sweepIndex: r.sweepIndex ?? null,
      sweepValues: r.sweepValues ?? null,
      idempotencyKey: r.idempotencyKey ?? null,
      datasetSha: r.datasetSha ?? null,
      memory: r.memory ?? null,
      progressTotal: r.progressTotal ?? null,
      createdAt,
      updatedAt: createdAt,
      queuedAt: createdAt,
    };
  });
  try {
    return values.length === 1
      ? [insertOneRun(db, values[0]!)]
      : db.insert(runs).values(values).returning().all();
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw withCause(new ConflictError(`Run already exists (${sqliteErrorMessage(err)})`), err);
    }
    throw err;
  }
}

type RunValues = typeof runs.$inferInsert;
const oneRunInserts = new WeakMap<Db, { get(values: Record<string, unknown>): unknown }>();

/**
 * The one-run INSERT of every POST /v1/runs, compiled once per connection: building and compiling it on each call
 * cost ~200 µs, more than the rest of the transaction (bench: submit breakdown). Its placeholders are the keys of
 * the first row, which are the same for every row insertRunRows builds.
 */
function insertOneRun(db: Db, values: RunValues): RunRow {
  let statement = oneRunInserts.get(db);
  if (statement === undefined) {
    const placeholders = Object.fromEntries(Object.keys(values).map((key) => [key, sql.placeholder(key)]));
    statement = db
      .insert(runs)
      .values(placeholders as unknown as RunValues)
      .returning()
      .prepare();
    oneRunInserts.set(db, statement);
  }
  const row = statement.get(values) as RunRow | undefined;
  if (row === undefined) throw new Error(`run ${values.id} was not returned by its INSERT`);
  return row;
}

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
function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
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
