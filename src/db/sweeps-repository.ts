// Sweeps: a grid or list of runs created together; insert, read, list newest first, compare-and-set status.
import { and, desc, eq, inArray, notExists, type SQL, sql } from 'drizzle-orm';

import { ConflictError, NotFoundError } from '../domain/errors.js';
import type { MetricGoal, Sweep, SweepStatus } from '../domain/run.js';
import { ACTIVE_STATUSES } from '../domain/run-status.js';
import type { Db } from './client.js';
import { assertLimit, decodeCursor, type Page, toPage } from './cursor.js';
import { runs, sweeps } from './schema.js';
import { isUniqueViolation, withCause } from './sqlite-errors.js';
import { withTransaction } from './transaction.js';

// Compile-time check that the table and the domain type agree.
const asSweep = (row: typeof sweeps.$inferSelect): Sweep => row;

export interface NewSweep {
  id: string;
  name?: string | null;
  spec: Record<string, unknown>;
  metricName?: string | null;
  metricGoal?: MetricGoal | null;
  runCount: number;
  createdAt?: number;
}

/** Insert the sweep before its runs (runs.sweep_id references it); wrap both in withTransaction. */
export function insertSweep(db: Db, input: NewSweep): Sweep {
  const createdAt = input.createdAt ?? Date.now();
  try {
    const row = db
      .insert(sweeps)
      .values({
        id: input.id,
        name: input.name ?? null,
        spec: input.spec,
        metricName: input.metricName ?? null,
        metricGoal: input.metricGoal ?? null,
        status: 'active',
        runCount: input.runCount,
        createdAt,
        updatedAt: createdAt,
      })
      .returning()
      .get();
    return asSweep(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw withCause(new ConflictError(`Sweep ${input.id} already exists`), err);
    throw err;
  }
}

/**
 * Takes back a sweep whose jobs could not be enqueued, after its runs (deleteRun) in the same transaction. A run
 * still referencing it fails the delete (foreign key), so a sweep a worker could know of is never removed.
 */
export function deleteSweep(db: Db, id: string): boolean {
  return db.delete(sweeps).where(eq(sweeps.id, id)).run().changes > 0;
}

export function getSweep(db: Db, id: string): Sweep | undefined {
  return db.select().from(sweeps).where(eq(sweeps.id, id)).get();
}

export interface ListSweepsFilter {
  status?: SweepStatus;
  limit: number;
  cursor?: string;
}

/** Newest first by (created_at, id), keyset-paginated like listRuns. */
export function listSweeps(db: Db, filter: ListSweepsFilter): Page<Sweep> {
  assertLimit(filter.limit);
  const conditions: SQL[] = [];
  if (filter.status !== undefined) conditions.push(eq(sweeps.status, filter.status));
  if (filter.cursor !== undefined) {
    const after = decodeCursor(filter.cursor);
    conditions.push(sql`(${sweeps.createdAt}, ${sweeps.id}) < (${after.createdAt}, ${after.id})`);
  }
  const rows = db
    .select()
    .from(sweeps)
    .where(and(...conditions))
    .orderBy(desc(sweeps.createdAt), desc(sweeps.id))
    .limit(filter.limit + 1)
    .all();
  return toPage(rows, filter.limit);
}

/**
 * Compare-and-set: `UPDATE … WHERE id = ? AND status IN (from)`. Throws NotFoundError for an unknown sweep
 * and ConflictError when its status is not one of `from`.
 */
export function updateSweepStatus(
  db: Db,
  id: string,
  from: SweepStatus | readonly SweepStatus[],
  to: SweepStatus,
): Sweep {
  const fromList: readonly SweepStatus[] = typeof from === 'string' ? [from] : from;
  return withTransaction(db, () => {
    const row = db
      .update(sweeps)
      .set({ status: to, updatedAt: Date.now() })
      .where(and(eq(sweeps.id, id), inArray(sweeps.status, fromList)))
      .returning()
      .get();
    if (row !== undefined) return row;
    const current = getSweep(db, id);
    if (current === undefined) throw new NotFoundError('Sweep', id);
    throw new ConflictError(
      `Sweep ${id} is ${current.status}, not ${fromList.join(' or ')}; cannot make it ${to}`,
    );
  });
}

/**
 * An active sweep none of whose runs is still active becomes done (compare-and-set: a cancelled sweep stays
 * cancelled). Called by the final-status hook, inside the transaction that ends the run. Returns whether it did.
 */
export function settleSweepOfRun(db: Db, sweepId: string | null, at = Date.now()): boolean {
  if (sweepId === null) return false;
  const stillActive = db
    .select({ one: sql`1` })
    .from(runs)
    .where(and(eq(runs.sweepId, sweepId), inArray(runs.status, ACTIVE_STATUSES)));
  const result = db
    .update(sweeps)
    .set({ status: 'done', updatedAt: at })
    .where(and(eq(sweeps.id, sweepId), eq(sweeps.status, 'active'), notExists(stillActive)))
    .run();
  return result.changes > 0;
}
