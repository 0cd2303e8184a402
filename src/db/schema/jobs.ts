// Follow-up jobs of a run (evaluate, samples, fuse, export) and the artifacts runs and jobs produce.
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

import type { ArtifactKind, JobKindName, JobOrigin, JobStatus } from '../../domain/follow-up-job.js';
import { runs } from './runs.js';

export const jobs = sqliteTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<JobKindName>().notNull(),
    /** The options as requested, validated (`{kind, ...options}` without kind). */
    options: text('options', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    status: text('status').$type<JobStatus>().notNull(),
    /** Where the request came from: the API, a run's `after`, or a sweep's `best_after`. */
    origin: text('origin').$type<JobOrigin>().notNull().default('request'),
    /** A job made first in the same chain (an export's fuse): this one waits for it. */
    parentJobId: text('parent_job_id'),
    result: text('result', { mode: 'json' }).$type<Record<string, unknown>>(),
    error: text('error'),
    jobDir: text('job_dir').notNull(),
    attempt: integer('attempt').notNull().default(0),
    worker: text('worker'),
    cancelRequestedAt: integer('cancel_requested_at'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
  },
  (t) => [index('jobs_run_idx').on(t.runId, t.createdAt), index('jobs_status_idx').on(t.status, t.createdAt)],
);

/** Everything a run produced, with its size and sha256 (a folder's is the sha256 of its tar as downloaded). */
export const artifacts = sqliteTable(
  'artifacts',
  {
    id: text('id').primaryKey(),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    /** The follow-up job that made it; null for the training's own outputs (adapter, checkpoints). */
    jobId: text('job_id').references(() => jobs.id, { onDelete: 'set null' }),
    kind: text('kind').$type<ArtifactKind>().notNull(),
    path: text('path').notNull(),
    isDir: integer('is_dir', { mode: 'boolean' }).notNull(),
    bytes: integer('bytes').notNull(),
    sha256: text('sha256').notNull(),
    /** true: proven (a fuse whose generations match base + adapter); false: checked and failed; null: not checked. */
    verified: integer('verified', { mode: 'boolean' }),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [
    index('artifacts_run_idx').on(t.runId, t.createdAt),
    uniqueIndex('artifacts_run_path_unique').on(t.runId, t.path),
  ],
);

/** Webhook endpoints: POST /v1/webhooks, plus `wh_env` (WEBHOOK_URL) and `wh_desktop` (NOTIFY_DESKTOP) kept from settings. */
