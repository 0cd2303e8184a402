// What a training prints: metric points and log lines per run. `metrics` is a WITHOUT ROWID table (migration
// 0001, hand-written: drizzle cannot declare it). If a future migration makes drizzle-kit recreate `metrics`, add
// WITHOUT ROWID to the generated CREATE TABLE by hand.
import { integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

import type { LogStream, MetricSplit } from '../../domain/run.js';
import { runs } from './runs.js';

export const metrics = sqliteTable(
  'metrics',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    iteration: integer('iteration').notNull(),
    split: text('split').$type<MetricSplit>().notNull(),
    name: text('name').notNull(),
    value: real('value'),
    attempt: integer('attempt').notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.runId, t.name, t.split, t.iteration, t.attempt] })],
);

export const logLines = sqliteTable(
  'log_lines',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    stream: text('stream').$type<LogStream>().notNull(),
    text: text('text').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.seq] })],
);

/** Uploaded datasets, addressed by the SHA-256 of their content. */
