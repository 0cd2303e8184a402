// Drizzle table definitions for the run history; drizzle-kit generates migrations/ from this file.
//
// Times are integer milliseconds since the epoch. JSON columns use drizzle's json mode, so rows arrive parsed.
// `metrics` is a WITHOUT ROWID table (migration 0001, hand-written: drizzle cannot declare it). If a future
// migration makes drizzle-kit recreate `metrics`, add WITHOUT ROWID to the generated CREATE TABLE by hand.
import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

import type { FieldIssue } from '../domain/errors.js';
import type { Method, TrainMode } from '../domain/methods.js';
import type { AttemptOutcome, LogStream, MetricGoal, MetricSplit, SweepStatus } from '../domain/run.js';
import type { RunRequest } from '../domain/run-request.js';
import type { RunStatus } from '../domain/run-status.js';

export const sweeps = sqliteTable(
  'sweeps',
  {
    id: text('id').primaryKey(),
    name: text('name'),
    spec: text('spec', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    metricName: text('metric_name'),
    metricGoal: text('metric_goal').$type<MetricGoal>(),
    status: text('status').$type<SweepStatus>().notNull().default('active'),
    runCount: integer('run_count').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    index('sweeps_created_idx').on(t.createdAt, t.id),
    index('sweeps_status_created_idx').on(t.status, t.createdAt, t.id),
  ],
);

export const runs = sqliteTable(
  'runs',
  {
    id: text('id').primaryKey(),
    name: text('name'),
    method: text('method').$type<Method>().notNull(),
    trainMode: text('train_mode').$type<TrainMode>().notNull(),
    model: text('model').notNull(),
    data: text('data').notNull(),
    status: text('status').$type<RunStatus>().notNull(),
    priority: integer('priority').notNull().default(0),
    tags: text('tags', { mode: 'json' }).$type<string[]>().notNull().default([]),
    request: text('request', { mode: 'json' }).$type<RunRequest>().notNull(),
    argv: text('argv', { mode: 'json' }).$type<string[]>().notNull(),
    configYaml: text('config_yaml').notNull(),
    warnings: text('warnings', { mode: 'json' }).$type<FieldIssue[]>().notNull().default([]),
    runDir: text('run_dir').notNull(),
    adapterPath: text('adapter_path').notNull(),
    adapterFile: text('adapter_file'),
    checkpoints: text('checkpoints', { mode: 'json' }).$type<string[]>().notNull().default([]),
    sweepId: text('sweep_id').references(() => sweeps.id),
    sweepIndex: integer('sweep_index'),
    sweepValues: text('sweep_values', { mode: 'json' }).$type<Record<string, unknown>>(),
    idempotencyKey: text('idempotency_key').unique('runs_idempotency_key_unique'),
    attempt: integer('attempt').notNull().default(0),
    progressIteration: integer('progress_iteration'),
    progressTotal: integer('progress_total'),
    latestLoss: real('latest_loss'),
    latestValLoss: real('latest_val_loss'),
    error: text('error'),
    exitCode: integer('exit_code'),
    signal: text('signal'),
    mlxVersion: text('mlx_version'),
    worker: text('worker'),
    trainerPid: integer('trainer_pid'),
    logBytes: integer('log_bytes').notNull().default(0),
    logLines: integer('log_lines').notNull().default(0),
    cancelRequestedAt: integer('cancel_requested_at'),
    stopReason: text('stop_reason'),
    datasetSha: text('dataset_sha'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    queuedAt: integer('queued_at'),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    durationMs: integer('duration_ms'),
  },
  // Every list index ends in (created_at, id) so "newest first" pages are read straight off the index.
  (t) => [
    index('runs_status_created_idx').on(t.status, t.createdAt, t.id),
    index('runs_method_created_idx').on(t.method, t.createdAt, t.id),
    index('runs_model_created_idx').on(t.model, t.createdAt, t.id),
    index('runs_sweep_idx').on(t.sweepId, t.sweepIndex),
    index('runs_created_idx').on(t.createdAt, t.id),
    index('runs_dataset_sha_idx').on(t.datasetSha),
  ],
);

/** One row per (run, tag) for `?tag=` filters; runs.tags keeps the display order. */
export const runTags = sqliteTable(
  'run_tags',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    tag: text('tag').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tag, t.runId] }), index('run_tags_run_idx').on(t.runId)],
);

export const runEvents = sqliteTable(
  'run_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    fromStatus: text('from_status').$type<RunStatus>(),
    toStatus: text('to_status').$type<RunStatus>().notNull(),
    attempt: integer('attempt').notNull(),
    reason: text('reason'),
    at: integer('at').notNull(),
  },
  (t) => [index('run_events_run_idx').on(t.runId, t.id)],
);

export const runAttempts = sqliteTable(
  'run_attempts',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    attempt: integer('attempt').notNull(),
    worker: text('worker').notNull(),
    startedAt: integer('started_at').notNull(),
    finishedAt: integer('finished_at'),
    outcome: text('outcome').$type<AttemptOutcome>(),
    resumedFrom: text('resumed_from'),
    startIteration: integer('start_iteration'),
    exitCode: integer('exit_code'),
    signal: text('signal'),
    error: text('error'),
    /** The job delivery that asked for this attempt (reporting protocol): the same delivery asking again gets it back. */
    deliveryId: text('delivery_id'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.attempt] })],
);

/** Up to tens of millions of rows: keyed for "one run's series" reads; WITHOUT ROWID (see the header). */
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

/**
 * Credentials of workers on other Macs (POST /v1/workers). Only the SHA-256 of the token is kept: the token is
 * shown once, and a revoked row stays (revoked_at set) so its calls keep getting 401 and the history names it.
 */
export const workerCredentials = sqliteTable(
  'worker_credentials',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    labels: text('labels', { mode: 'json' }).$type<string[]>().notNull().default([]),
    tokenHash: text('token_hash').notNull(),
    createdAt: integer('created_at').notNull(),
    revokedAt: integer('revoked_at'),
    lastUsedAt: integer('last_used_at'),
  },
  (t) => [index('worker_credentials_name_idx').on(t.name)],
);

/** Files a worker uploaded for a run (checkpoints, adapters), by name; the bytes are in the blob store by SHA-256. */
export const runArtifacts = sqliteTable(
  'run_artifacts',
  {
    runId: text('run_id')
      .notNull()
      .references(() => runs.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    kind: text('kind').$type<'checkpoint' | 'adapter' | 'file'>().notNull(),
    /** The run's iteration a checkpoint was saved at; null for other files. */
    iteration: integer('iteration'),
    attempt: integer('attempt').notNull(),
    sha256: text('sha256').notNull(),
    bytes: integer('bytes').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.name] })],
);
