// Trainer output lines per run: batched appends, paged reads for followers, and trimming past the log cap.
import { and, asc, eq, gt, lt, max } from 'drizzle-orm';

import type { LogLine } from '../domain/run.js';
import type { Db } from './client.js';
import { perDb } from './per-db.js';
import { logLines } from './schema.js';
import { withTransaction } from './transaction.js';

// Plain better-sqlite3 statements: this is the service's hottest write (every trainer line). drizzle's per-call
// placeholder mapping cost as much as the INSERT itself, and one statement per 50 lines costs ~40 % less CPU than
// one per line (bench: log ingestion).
const ROWS_PER_INSERT = 50;
const INSERT_LINES = 'INSERT INTO log_lines (run_id, seq, stream, text, at) VALUES';
const insertLine = perDb((db) =>
  db.$client.prepare(`${INSERT_LINES} (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
);
const insertLines = perDb((db) =>
  db.$client.prepare(
    `${INSERT_LINES} ${Array(ROWS_PER_INSERT).fill('(?, ?, ?, ?, ?)').join(', ')} ON CONFLICT DO NOTHING`,
  ),
);

/**
 * Appends lines in one transaction. A (run, seq) already stored is left as it is, so replaying a batch after
 * a failed flush is harmless. Returns how many lines were new.
 */
export function appendLogLines(db: Db, runId: string, lines: readonly LogLine[]): number {
  if (lines.length === 0) return 0;
  const one = insertLine(db);
  const many = insertLines(db);
  return withTransaction(db, () => {
    let inserted = 0;
    let i = 0;
    for (; i + ROWS_PER_INSERT <= lines.length; i += ROWS_PER_INSERT) {
      const args: unknown[] = [];
      for (const l of lines.slice(i, i + ROWS_PER_INSERT)) args.push(runId, l.seq, l.stream, l.text, l.at);
      inserted += many.run(args).changes;
    }
    for (const l of lines.slice(i)) inserted += one.run(runId, l.seq, l.stream, l.text, l.at).changes;
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
