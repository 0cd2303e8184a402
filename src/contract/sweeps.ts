// The answers of the sweep routes: the table of runs, counts by status, the best run, submit, list and cancel.
import { z } from 'zod';

import { METRIC_SPLITS } from '../domain/metric-point.js';
import { SWEEP_STATUSES } from '../domain/run.js';
import { RUN_STATUSES } from '../domain/run-status.js';
import { FieldIssue, IsoTime, JsonNumber, JsonObject } from './common.js';

const Int = z.number().int();
const RunStatus = z.enum(RUN_STATUSES);

const MetricAt = z.strictObject({ iteration: Int, value: JsonNumber });
/** A metric's last reported value and its best one. */
export const FinalAndBest = z.strictObject({ final: MetricAt.nullable(), best: MetricAt.nullable() });
export type FinalAndBest = z.infer<typeof FinalAndBest>;

export const SweepMetric = z.strictObject({
  name: z.string(),
  split: z.enum(METRIC_SPLITS),
  goal: z.enum(['min', 'max']),
});

export const SweepRunRow = z.strictObject({
  index: Int,
  runId: z.string(),
  name: z.string().nullable(),
  status: RunStatus,
  values: JsonObject,
  progress: z.strictObject({ iteration: Int.nullable(), total: Int.nullable() }),
  /** The sweep's metric. */
  objective: FinalAndBest,
  trainLoss: FinalAndBest,
  valLoss: FinalAndBest,
  /** GRPO's total_rewards_mean (train reports); null for other methods. */
  meanReward: FinalAndBest.nullable(),
  /** The newest succeeded evaluate job's result (test loss and perplexity); null when not evaluated. */
  evaluation: z.strictObject({ testLoss: z.number(), testPpl: z.number() }).nullable(),
  stopReason: z.string().nullable(),
  error: z.string().nullable(),
  durationMs: Int.nullable(),
});
export type SweepRunRow = z.infer<typeof SweepRunRow>;

export const BestRun = z.strictObject({
  runId: z.string(),
  index: Int,
  values: JsonObject,
  status: RunStatus,
  /** The run's final value of the sweep's metric, and the iteration it was reported at. */
  value: z.number(),
  iteration: Int,
  /** True while runs are still active, or when no run has succeeded yet (the leader so far). */
  provisional: z.boolean(),
});
export type BestRun = z.infer<typeof BestRun>;

/** Runs by status, and their total. */
export const StatusCounts = z.strictObject({
  ...Object.fromEntries(RUN_STATUSES.map((s) => [s, Int])),
  total: Int,
} as Record<(typeof RUN_STATUSES)[number] | 'total', typeof Int>);
export type StatusCounts = z.infer<typeof StatusCounts>;

/** One item of GET /v1/sweeps: the sweep without its table and spec. */
export const SweepSummary = z.strictObject({
  id: z.string(),
  name: z.string().nullable(),
  status: z.enum(SWEEP_STATUSES),
  metric: SweepMetric,
  runCount: Int,
  createdAt: IsoTime,
  updatedAt: IsoTime,
  counts: StatusCounts,
  /** Members the median stopping rule stopped; 0 without early_stopping. */
  earlyStopped: Int,
  best: BestRun.nullable(),
});
export type SweepSummary = z.infer<typeof SweepSummary>;

/** GET /v1/sweeps/:id */
export const SweepDetail = SweepSummary.extend({
  /** The sweep specification as submitted (normalised). */
  spec: JsonObject,
  runs: z.array(SweepRunRow),
});
export type SweepDetail = z.infer<typeof SweepDetail>;

/** POST /v1/sweeps (201) */
export const SubmittedSweep = SweepDetail.extend({ warnings: z.array(FieldIssue) });
export type SubmittedSweep = z.infer<typeof SubmittedSweep>;

/** GET /v1/sweeps */
export const SweepList = z.strictObject({ items: z.array(SweepSummary), nextCursor: z.string().nullable() });
export type SweepList = z.infer<typeof SweepList>;

/** POST /v1/sweeps/:id/cancel */
export const SweepCancel = z.strictObject({
  /** Members cancelled at once (no worker held them). */
  cancelled: z.array(z.string()),
  /** Running members: their worker stops the trainer and records the cancel. */
  cancelling: z.array(z.string()),
  alreadyFinal: Int,
  /** Members that could not be cancelled; the others were cancelled regardless. */
  errors: z.array(z.strictObject({ runId: z.string(), message: z.string() })),
  sweep: SweepSummary,
});
export type SweepCancel = z.infer<typeof SweepCancel>;
