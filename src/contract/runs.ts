// The answers of the run routes: a run in a list, a run with everything recorded, submit, dry run, cancel, metrics.
import { z } from 'zod';

import { METHODS, TRAIN_MODES } from '../domain/methods.js';
import { METRIC_SPLITS } from '../domain/metric-point.js';
import { RUN_STATUSES } from '../domain/run-status.js';
import { FieldIssue, IsoTime, JsonNumber, JsonObject, NullableIsoTime } from './common.js';
import { DatasetReport } from './datasets.js';
import { DryRunMemory, OutOfMemory, RunMemory } from './memory.js';

const Int = z.number().int();
const RunStatus = z.enum(RUN_STATUSES);

export const RunProgress = z.strictObject({
  iteration: Int.nullable(),
  total: Int.nullable(),
  percent: z.number().nullable(),
  etaSeconds: Int.nullable(),
  latestLoss: JsonNumber,
  latestValLoss: JsonNumber,
});
export type RunProgress = z.infer<typeof RunProgress>;

/** A run in a list: what a table row shows (GET /v1/runs). */
export const RunSummary = z.strictObject({
  id: z.string(),
  name: z.string().nullable(),
  method: z.enum(METHODS),
  trainMode: z.enum(TRAIN_MODES),
  model: z.string(),
  data: z.string(),
  status: RunStatus,
  priority: Int,
  tags: z.array(z.string()),
  attempt: Int,
  progress: RunProgress,
  adapterFile: z.string().nullable(),
  /** The first line of the error; the whole text is on the run itself. */
  error: z.string().nullable(),
  exitCode: Int.nullable(),
  stopReason: z.string().nullable(),
  sweepId: z.string().nullable(),
  sweepIndex: Int.nullable(),
  sweepValues: JsonObject.nullable(),
  createdAt: IsoTime,
  queuedAt: NullableIsoTime,
  startedAt: NullableIsoTime,
  finishedAt: NullableIsoTime,
  durationMs: Int.nullable(),
});
export type RunSummary = z.infer<typeof RunSummary>;

/** A run with its request, command, config and outputs. */
export const RunView = RunSummary.extend({
  error: z.string().nullable(),
  /** The normalised request the run was created from (see the RunRequest_<method> schemas). */
  request: JsonObject,
  argv: z.array(z.string()),
  config: z.string(),
  warnings: z.array(FieldIssue),
  runDir: z.string(),
  adapterPath: z.string(),
  checkpoints: z.array(z.string()),
  signal: z.string().nullable(),
  mlxVersion: z.string().nullable(),
  /** Where the run last trained (worker, Python, mlx, mlx-lm, mlx-lm-lora, OS, chip, memory, flag set); null before it started. */
  environment: z
    .strictObject({
      worker: z.string(),
      python: z.string().nullable(),
      mlx: z.string().nullable(),
      mlxLm: z.string().nullable(),
      mlxLmLora: z.string().nullable(),
      os: z.string().nullable(),
      chip: z.string().nullable(),
      memoryBytes: z.number().nullable(),
      flagSet: z
        .strictObject({
          version: z.string().nullable(),
          source: z.enum(['build_parser', 'help', 'verified']),
        })
        .nullable(),
    })
    .nullable(),
  worker: z.string().nullable(),
  logBytes: Int,
  logLines: Int,
  /** The memory estimate against the workers, made at submit; null when the run predates estimates. */
  memory: RunMemory.nullable(),
  /** The highest peak memory the trainer reported, over all attempts, in GB. */
  peakMemoryGb: z.number().nullable(),
  /** Set when the trainer ran out of memory. */
  outOfMemory: OutOfMemory.nullable(),
});
export type RunView = z.infer<typeof RunView>;

export const MetricRow = z.strictObject({
  runId: z.string(),
  iteration: Int,
  split: z.enum(METRIC_SPLITS),
  name: z.string(),
  value: JsonNumber,
  attempt: Int,
});
export type MetricRow = z.infer<typeof MetricRow>;

/** One status change; `at` in milliseconds since the epoch. */
export const RunEvent = z.strictObject({
  id: Int,
  runId: z.string(),
  fromStatus: RunStatus.nullable(),
  toStatus: RunStatus,
  attempt: Int,
  reason: z.string().nullable(),
  /** A retry decision's delay before the next attempt. */
  delayMs: Int.nullable(),
  at: Int,
});
export type RunEvent = z.infer<typeof RunEvent>;

/** One execution of the trainer; times in milliseconds since the epoch. */
export const RunAttempt = z.strictObject({
  runId: z.string(),
  attempt: Int,
  worker: z.string(),
  startedAt: Int,
  finishedAt: Int.nullable(),
  outcome: z.enum(['succeeded', 'failed', 'cancelled', 'interrupted']).nullable(),
  resumedFrom: z.string().nullable(),
  startIteration: Int.nullable(),
  exitCode: Int.nullable(),
  signal: z.string().nullable(),
  /** The job delivery that asked for the attempt over the reporting protocol (null for in-process starts). */
  deliveryId: z.string().nullable(),
  error: z.string().nullable(),
});
export type RunAttempt = z.infer<typeof RunAttempt>;

/** GET /v1/runs/:id */
export const RunDetail = RunView.extend({
  /** Why a queued or interrupted run is not training (no usable worker, retry backoff); null otherwise. */
  waiting: z.string().nullable(),
  latestMetrics: z.array(MetricRow),
  events: z.array(RunEvent),
  attempts: z.array(RunAttempt),
});
export type RunDetail = z.infer<typeof RunDetail>;

/** GET /v1/runs */
export const RunList = z.strictObject({ items: z.array(RunSummary), nextCursor: z.string().nullable() });
export type RunList = z.infer<typeof RunList>;

/** POST /v1/runs: 201 when queued, 200 when the Idempotency-Key names a run already made. */
export const SubmittedRun = RunView.extend({ warnings: z.array(FieldIssue) });
export type SubmittedRun = z.infer<typeof SubmittedRun>;

/** POST /v1/runs?dryRun=true: what the run would be, nothing queued. */
export const DryRun = z.strictObject({
  argv: z.array(z.string()),
  config: z.string(),
  env: z.record(z.string(), z.string()),
  warnings: z.array(FieldIssue),
  request: JsonObject,
  dataset: DatasetReport,
  memory: DryRunMemory,
  /** Iterations the run is expected to train: iters, or epochs * ceil(train rows / batch_size) as upstream computes it. */
  progressTotal: Int.nullable(),
  /** The mlx-lm-lora flag set the command was built for: a registered worker's, or the verified 3.1.2 set (worker null). */
  flagSet: z.strictObject({
    version: z.string().nullable(),
    source: z.enum(['build_parser', 'help', 'verified']),
    worker: z.string().nullable(),
  }),
});
export type DryRun = z.infer<typeof DryRun>;

/** POST /v1/runs/:id/cancel: 200 cancelled at once, 202 while the worker stops the trainer. */
export const CancelledRun = RunView.extend({ cancelRequestedAt: NullableIsoTime });
export type CancelledRun = z.infer<typeof CancelledRun>;

/** GET /v1/runs/:id/metrics */
export const RunMetrics = z.strictObject({ runId: z.string(), points: z.array(MetricRow) });
export type RunMetrics = z.infer<typeof RunMetrics>;

/** The server-sent events of GET /v1/runs/:id/logs?follow=true, by event name. */
export const LogLineEvent = z.strictObject({
  seq: Int,
  stream: z.enum(['stdout', 'stderr', 'system']),
  text: z.string(),
});
export const LogStatusEvent = z.strictObject({ status: RunStatus, progress: RunProgress });
export const LogEndEvent = z.strictObject({ status: RunStatus, error: z.string().nullable() });
export type LogLineEvent = z.infer<typeof LogLineEvent>;
export type LogStatusEvent = z.infer<typeof LogStatusEvent>;
export type LogEndEvent = z.infer<typeof LogEndEvent>;
