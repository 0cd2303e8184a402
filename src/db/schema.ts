// Drizzle table definitions for the run history; drizzle-kit generates migrations/ from this file.
//
// Times are integer milliseconds since the epoch. JSON columns use drizzle's json mode, so rows arrive parsed.
// `metrics` is a WITHOUT ROWID table (migration 0001, hand-written: drizzle cannot declare it). If a future
// migration makes drizzle-kit recreate `metrics`, add WITHOUT ROWID to the generated CREATE TABLE by hand.
import { index, integer, primaryKey, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

import type { FieldIssue } from '../domain/errors.js';
import type { ArtifactKind, JobKindName, JobOrigin, JobStatus } from '../domain/follow-up-job.js';
import type { Method, TrainMode } from '../domain/methods.js';
import type { AttemptOutcome, LogStream, MetricGoal, MetricSplit, SweepStatus } from '../domain/run.js';
import type { RunEnvironment } from '../domain/run-environment.js';
import type { OutOfMemory, RunMemory } from '../domain/run-memory.js';
import type { RunRequest } from '../domain/run-request.js';
import type { RunStatus } from '../domain/run-status.js';
import type { DeliveryAttempt, DeliveryStatus, WebhookEvent } from '../domain/webhooks.js';

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

/** Follow-up jobs of a succeeded run (evaluate, samples, fuse, export): same statuses as a run. */
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
export const webhooks = sqliteTable('webhooks', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  events: text('events', { mode: 'json' }).$type<WebhookEvent[]>().notNull(),
  /** HMAC-SHA256 key of X-Mlxq-Signature; never returned by the API. */
  secret: text('secret'),
  createdAt: integer('created_at').notNull(),
});

/**
 * The notification outbox: rows are written in the transaction that makes a run final, and a dispatcher outside it
 * sends them (retries with backoff; pending rows survive restarts). `body` is rendered at the first attempt and
 * kept, so every retry sends (and signs) the same bytes.
 */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    webhookId: text('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    event: text('event').$type<WebhookEvent>().notNull(),
    /** The run or sweep the event is about. */
    subject: text('subject').notNull(),
    body: text('body'),
    status: text('status').$type<DeliveryStatus>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** When the next attempt is due; also the lease of the dispatcher sending it now. */
    nextAttemptAt: integer('next_attempt_at').notNull(),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    /** Every attempt: {at, statusCode, error, ms}. */
    log: text('log', { mode: 'json' }).$type<DeliveryAttempt[]>().notNull().default([]),
    createdAt: integer('created_at').notNull(),
    deliveredAt: integer('delivered_at'),
  },
  (t) => [
    index('webhook_deliveries_due_idx').on(t.status, t.nextAttemptAt),
    index('webhook_deliveries_webhook_idx').on(t.webhookId, t.createdAt),
    index('webhook_deliveries_subject_idx').on(t.subject, t.event),
  ],
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
