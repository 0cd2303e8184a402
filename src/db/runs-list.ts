// Lists runs newest first, (created_at desc, id desc), with filters and keyset pagination over the indexes.
import { and, desc, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';

import type { Run } from '../domain/run.js';
import type { RunStatus } from '../domain/run-status.js';
import type { Db } from './client.js';
import { assertLimit, decodeCursor, type Page, toPage } from './cursor.js';
import { runs, runTags } from './schema.js';

export interface ListRunsFilter {
  status?: RunStatus | readonly RunStatus[];
  method?: string;
  model?: string;
  sweepId?: string;
  tag?: string;
  /** Inclusive lower bound on created_at (ms). */
  createdFrom?: number;
  /** Exclusive upper bound on created_at (ms). */
  createdTo?: number;
  limit: number;
  /** nextCursor of the previous page. */
  cursor?: string;
}

/**
 * Each filter has an index ending in (created_at, id): (status|method|model, created_at, id), or
 * (created_at, id) alone, so a page is an index range read in order, and the cursor condition
 * `(created_at, id) < (?, ?)` seeks into it instead of skipping rows (cost does not grow with depth).
 * A tag filter reads run_tags' (tag, run_id) key and sorts only the matching runs.
 */
export function listRuns(db: Db, filter: ListRunsFilter): Page<Run> {
  return toPage(listRunsQuery(db, filter).all(), filter.limit);
}

/** The page query (limit + 1 rows), exposed so tests can EXPLAIN QUERY PLAN it. */
export function listRunsQuery(db: Db, filter: ListRunsFilter) {
  assertLimit(filter.limit);
  return db
    .select()
    .from(runs)
    .where(and(...listConditions(db, filter)))
    .orderBy(desc(runs.createdAt), desc(runs.id))
    .limit(filter.limit + 1);
}

function listConditions(db: Db, filter: ListRunsFilter): SQL[] {
  const conditions: SQL[] = [];
  const { status } = filter;
  if (typeof status === 'string') conditions.push(eq(runs.status, status));
  else if (status !== undefined) conditions.push(inArray(runs.status, status));
  if (filter.method !== undefined) conditions.push(eq(runs.method, filter.method as Run['method']));
  if (filter.model !== undefined) conditions.push(eq(runs.model, filter.model));
  if (filter.sweepId !== undefined) conditions.push(eq(runs.sweepId, filter.sweepId));
  if (filter.tag !== undefined) {
    const tagged = db.select({ runId: runTags.runId }).from(runTags).where(eq(runTags.tag, filter.tag));
    conditions.push(inArray(runs.id, tagged));
  }
  if (filter.createdFrom !== undefined) conditions.push(gte(runs.createdAt, filter.createdFrom));
  if (filter.createdTo !== undefined) conditions.push(lt(runs.createdAt, filter.createdTo));
  if (filter.cursor !== undefined) {
    const after = decodeCursor(filter.cursor);
    conditions.push(sql`(${runs.createdAt}, ${runs.id}) < (${after.createdAt}, ${after.id})`);
  }
  return conditions;
}
