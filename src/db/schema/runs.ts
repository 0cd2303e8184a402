// Runs and what belongs to each: sweeps (created together), runs, their tags, status events and attempts.
import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core';

import type { FieldIssue } from '../../domain/errors.js';
import type { Method, TrainMode } from '../../domain/methods.js';
import type { AttemptOutcome, MetricGoal, SweepStatus } from '../../domain/run.js';
import type { RunEnvironment } from '../../domain/run-environment.js';
import type { OutOfMemory, RunMemory } from '../../domain/run-memory.js';
import type { RunRequest } from '../../domain/run-request.js';
import type { RunStatus } from '../../domain/run-status.js';

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
    environment: text('environment', { mode: 'json' }).$type<RunEnvironment>(),
    worker: text('worker'),
    trainerPid: integer('trainer_pid'),
    logBytes: integer('log_bytes').notNull().default(0),
    logLines: integer('log_lines').notNull().default(0),
    cancelRequestedAt: integer('cancel_requested_at'),
    stopReason: text('stop_reason'),
    /** Earliest time the next attempt may start (a retry's backoff); the reconciler keeps it when it re-adds a job. */
    notBefore: integer('not_before'),
    /** Worker-side errors (I/O, SQLite) met so far; the retry policy's strike count for them. */
    workerErrors: integer('worker_errors').notNull().default(0),
    datasetSha: text('dataset_sha'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    queuedAt: integer('queued_at'),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
    durationMs: integer('duration_ms'),
    /** The estimate against the workers at submit (null for runs from before estimates existed). */
    memory: text('memory', { mode: 'json' }).$type<RunMemory>(),
    /** The highest peak memory the trainer reported over all attempts (GB). */
    peakMemoryGb: real('peak_memory_gb'),
    outOfMemory: text('out_of_memory', { mode: 'json' }).$type<OutOfMemory>(),
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
    /** A retry decision's delay before the next attempt. */
    delayMs: integer('delay_ms'),
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
