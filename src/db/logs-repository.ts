// Trainer output lines per run: batched appends, paged reads for followers, and trimming past the log cap.
import { and, asc, eq, gt, lt, max, sql } from 'drizzle-orm';

import type { LogLine } from '../domain/run.js';
import type { Db } from './client.js';
import { perDb } from './per-db.js';
import { logLines } from './schema.js';
import { withTransaction } from './transaction.js';

const insertLine = perDb((db) =>
  db
    .insert(logLines)
    .values({
      runId: sql.placeholder('runId'),
      seq: sql.placeholder('seq'),
      stream: sql.placeholder('stream'),
      text: sql.placeholder('text'),
      at: sql.placeholder('at'),
    })
    .onConflictDoNothing()
    .prepare(),
);

/**
 * Appends lines in one transaction. A (run, seq) already stored is left as it is, so replaying a batch after
 * a failed flush is harmless. Returns how many lines were new.
 */
export function appendLogLines(db: Db, runId: string, lines: readonly LogLine[]): number {
  if (lines.length === 0) return 0;
  const statement = insertLine(db);
  return withTransaction(db, () => {
    let inserted = 0;
    for (const l of lines) {
      inserted += statement.run({ runId, seq: l.seq, stream: l.stream, text: l.text, at: l.at }).changes;
    }
    return inserted;
  });
}

export interface LogQuery {
  /** Only lines with seq > afterSeq. */
  afterSeq?: number;
  /** At most this many lines; all when absent. */
  limit?: number;
}

/** Lines in seq order. */
export function getLogLines(db: Db, runId: string, query: LogQuery = {}): LogLine[] {
  const where =
    query.afterSeq === undefined
      ? eq(logLines.runId, runId)
      : and(eq(logLines.runId, runId), gt(logLines.seq, query.afterSeq));
  const select = db
    .select({ seq: logLines.seq, stream: logLines.stream, text: logLines.text, at: logLines.at })
    .from(logLines)
    .where(where)
    .orderBy(asc(logLines.seq));
  return query.limit === undefined ? select.all() : select.limit(query.limit).all();
}

/** The highest stored seq, or 0 when the run has no lines (so a writer's first seq is 1). */
export function maxLogSeq(db: Db, runId: string): number {
  const row = db
    .select({ seq: max(logLines.seq) })
    .from(logLines)
    .where(eq(logLines.runId, runId))
    .get();
  return row?.seq ?? 0;
}

/** Deletes the lines strictly between two seqs (the middle of a log over its cap). Returns how many went. */
export function deleteLogRange(db: Db, runId: string, afterSeq: number, beforeSeq: number): number {
  if (beforeSeq - afterSeq <= 1) return 0;
  return db
    .delete(logLines)
    .where(and(eq(logLines.runId, runId), gt(logLines.seq, afterSeq), lt(logLines.seq, beforeSeq)))
    .run().changes;
}
