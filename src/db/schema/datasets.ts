// Uploaded datasets, content-addressed by sha256.
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const datasets = sqliteTable(
  'datasets',
  {
    sha256: text('sha256').primaryKey(),
    name: text('name'),
    /** File names, e.g. ["train.jsonl", "valid.jsonl"]. */
    files: text('files', { mode: 'json' }).$type<string[]>().notNull(),
    bytes: integer('bytes').notNull(),
    /** Row count per file name. */
    rows: text('rows', { mode: 'json' }).$type<Record<string, number>>().notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('datasets_created_idx').on(t.createdAt, t.sha256)],
);

/** Follow-up jobs of a succeeded run (evaluate, samples, fuse, export): same statuses as a run. */
