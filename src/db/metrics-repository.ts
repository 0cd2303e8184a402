// Training metrics per run: batched writes, one run's series, latest values, and final/best values for sweeps.
import { and, asc, eq, gte, type SQL, sql } from 'drizzle-orm';

import type { MetricGoal, MetricPoint, MetricRow, MetricSplit } from '../domain/run.js';
import type { Db } from './client.js';
import { perDb } from './per-db.js';
import { metrics } from './schema.js';
import { withTransaction } from './transaction.js';

// Every read seeks the (run_id, name, split, iteration, attempt) primary key of the WITHOUT ROWID table.

// An upsert rather than INSERT OR REPLACE: the same result (value is the only non-key column) without the
// delete-then-insert that REPLACE performs on a conflicting row.
const upsertMetric = perDb((db) =>
  db
    .insert(metrics)
    .values({
      runId: sql.placeholder('runId'),
      attempt: sql.placeholder('attempt'),
      iteration: sql.placeholder('iteration'),
      split: sql.placeholder('split'),
      name: sql.placeholder('name'),
      value: sql.placeholder('value'),
    })
    .onConflictDoUpdate({
      target: [metrics.runId, metrics.name, metrics.split, metrics.iteration, metrics.attempt],
      set: { value: sql`excluded.value` },
    })
    .prepare(),
);

/**
 * Writes points in one transaction; a point reported again for the same (iteration, split, name, attempt)
 * replaces the earlier value. NaN is stored as NULL; ±Infinity is stored as a REAL infinity.
 */
export function insertMetrics(
  db: Db,
  runId: string,
  attempt: number,
  points: readonly MetricPoint[],
): number {
  if (points.length === 0) return 0;
  const statement = upsertMetric(db);
  withTransaction(db, () => {
    for (const p of points) {
      const value = p.value === null || Number.isNaN(p.value) ? null : p.value;
      statement.run({ runId, attempt, iteration: p.iteration, split: p.split, name: p.name, value });
    }
  });
  return points.length;
}

export interface MetricsQuery {
  name?: string;
  split?: MetricSplit;
  /** Only iterations >= this one. */
  sinceIteration?: number;
}

/** One run's points, ordered by (name, split, iteration, attempt). */
export function getMetrics(db: Db, runId: string, query: MetricsQuery = {}): MetricRow[] {
  return getMetricsQuery(db, runId, query).all();
}

/** The query getMetrics runs, exposed so tests can EXPLAIN QUERY PLAN it. */
export function getMetricsQuery(db: Db, runId: string, query: MetricsQuery = {}) {
  const conditions: SQL[] = [eq(metrics.runId, runId)];
  if (query.name !== undefined) conditions.push(eq(metrics.name, query.name));
  if (query.split !== undefined) conditions.push(eq(metrics.split, query.split));
  if (query.sinceIteration !== undefined) conditions.push(gte(metrics.iteration, query.sinceIteration));
  return db
    .select()
    .from(metrics)
    .where(and(...conditions))
    .orderBy(asc(metrics.name), asc(metrics.split), asc(metrics.iteration), asc(metrics.attempt));
}

interface RawMetric {
  run_id: string;
  iteration: number;
  split: MetricSplit;
  name: string;
  value: number | null;
  attempt: number;
}

const toRow = (r: RawMetric): MetricRow => ({
  runId: r.run_id,
  iteration: r.iteration,
  split: r.split,
  name: r.name,
  value: r.value,
  attempt: r.attempt,
});

// "The newest attempt wins", written once for every read below: a resumed attempt restarts from a checkpoint, so
// it reports again iterations an earlier attempt reported (its values count) and may stop below where that attempt
// got. In each partition, rank 1 is the point that counts: the newest attempt first, then the highest iteration.
const newestAttemptRank = (partition: string) =>
  `row_number() OVER (PARTITION BY ${partition} ORDER BY attempt DESC, iteration DESC)`;

export const LATEST_METRICS_SQL = `
  SELECT run_id, iteration, split, name, value, attempt FROM (
    SELECT *, ${newestAttemptRank('name, split')} AS rn
    FROM metrics WHERE run_id = ?
  ) WHERE rn = 1 ORDER BY split, name`;

const latestStatement = perDb((db) => db.$client.prepare<[string], RawMetric>(LATEST_METRICS_SQL));

/** The latest point of each (split, name) of a run. */
export function latestMetrics(db: Db, runId: string): MetricRow[] {
  return latestStatement(db).all(runId).map(toRow);
}

const NEWEST_ATTEMPT_SERIES_SQL = `
  SELECT iteration, value FROM (
    SELECT iteration, value, ${newestAttemptRank('iteration')} AS rn
    FROM metrics WHERE run_id = ? AND name = ? AND split = ?
  ) WHERE rn = 1 ORDER BY iteration`;

const seriesStatement = perDb((db) =>
  db.$client.prepare<[string, string, MetricSplit], { iteration: number; value: number | null }>(
    NEWEST_ATTEMPT_SERIES_SQL,
  ),
);

/** One value per iteration of one metric, by iteration; where attempts reported an iteration twice, the newest. */
export function newestAttemptSeries(
  db: Db,
  runId: string,
  name: string,
  split: MetricSplit,
): { iteration: number; value: number | null }[] {
  return seriesStatement(db).all(runId, name, split);
}

export interface MetricValue {
  iteration: number;
  attempt: number;
  value: number | null;
}

export interface FinalAndBest {
  runId: string;
  /** The latest point (newest attempt, highest iteration); its value may be null (NaN) or infinite. */
  final: MetricValue | null;
  /** The lowest ('min') or highest ('max') finite value, earliest iteration on ties. */
  best: MetricValue | null;
}

// Parameters: goal sign (1 for min, -1 for max), run ids as a JSON array, name, split. 9e999 is SQLite's infinity.
export const FINAL_AND_BEST_SQL = `
  SELECT run_id, iteration, attempt, value, rf, rb FROM (
    SELECT run_id, iteration, attempt, value,
      ${newestAttemptRank('run_id')} AS rf,
      row_number() OVER (
        PARTITION BY run_id
        ORDER BY (value IS NULL OR abs(value) = 9e999), value * ?, iteration, attempt
      ) AS rb
    FROM metrics
    WHERE run_id IN (SELECT j.value FROM json_each(?) AS j) AND name = ? AND split = ?
  ) WHERE rf = 1 OR (rb = 1 AND value IS NOT NULL AND abs(value) < 9e999)`;

const finalAndBestStatement = perDb((db) =>
  db.$client.prepare<[number, string, string, string], RawMetric & { rf: number; rb: number }>(
    FINAL_AND_BEST_SQL,
  ),
);

/** For each run (in input order): its final and best value of one metric, e.g. a sweep's objective. */
export function finalAndBestMetric(
  db: Db,
  runIds: readonly string[],
  name: string,
  split: MetricSplit,
  goal: MetricGoal,
): FinalAndBest[] {
  const byRun = new Map<string, FinalAndBest>(
    runIds.map((runId) => [runId, { runId, final: null, best: null }]),
  );
  if (runIds.length === 0) return [];
  const rows = finalAndBestStatement(db).all(goal === 'min' ? 1 : -1, JSON.stringify(runIds), name, split);
  for (const r of rows) {
    const entry = byRun.get(r.run_id);
    if (entry === undefined) continue;
    const point = { iteration: r.iteration, attempt: r.attempt, value: r.value };
    if (r.rf === 1) entry.final = point;
    if (r.rb === 1 && r.value !== null && Number.isFinite(r.value)) entry.best = point;
  }
  return [...byRun.values()];
}

/** The highest value a run reported for a metric (e.g. peak_memory_gb over all attempts); null when none. */
export function maxMetricValue(db: Db, runId: string, name: string): number | null {
  const row = db
    .select({ v: sql<number | null>`max(${metrics.value})` })
    .from(metrics)
    .where(and(eq(metrics.runId, runId), eq(metrics.name, name)))
    .get();
  return row?.v ?? null;
}
