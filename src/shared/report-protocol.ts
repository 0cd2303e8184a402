// The reporting protocol between a worker and the control plane: the message schemas both sides parse (zod only,
// so a remote worker loads no server code). Every message names its run and attempt and is idempotent.
import { z } from 'zod';

import { LOG_STREAMS, METRIC_SPLITS } from '../domain/run.js';

const runId = z.string().min(1).max(100);
const attempt = z.number().int().min(0);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lower-case hex SHA-256');

/** Asks the control plane to create the next attempt for a job delivery; the same deliveryId gets the same attempt. */
export const startAttemptBody = z.strictObject({
  runId,
  deliveryId: z.string().min(8).max(100),
  mlxVersion: z.string().max(100).nullish(),
  /** What the run trains with on this worker (versions, OS, chip, memory, flag set): recorded on the run. */
  environment: z
    .strictObject({
      worker: z.string().max(200),
      python: z.string().max(100).nullable(),
      mlx: z.string().max(100).nullable(),
      mlxLm: z.string().max(100).nullable(),
      mlxLmLora: z.string().max(100).nullable(),
      os: z.string().max(200).nullable(),
      chip: z.string().max(200).nullable(),
      memoryBytes: z.number().nullable(),
      flagSet: z
        .strictObject({
          version: z.string().max(100).nullable(),
          source: z.enum(['build_parser', 'help', 'verified']),
        })
        .nullable(),
    })
    .nullish(),
  /** The attempt the delivered job carries (job `train:<run>:<n>`): a job for an attempt already used is stale. */
  jobAttempt: z.number().int().min(1).optional(),
  /** Checkpoints of the run this worker already holds on its own disk (by the run's iteration numbering). */
  checkpoints: z
    .array(z.strictObject({ name: z.string().max(300), iteration: z.number().int().min(0) }))
    .max(100_000)
    .optional(),
});
export type StartAttemptBody = z.infer<typeof startAttemptBody>;

/** A status change the worker asks for; the control plane checks it against the run's status and attempt. */
export const transitionBody = z.strictObject({
  attempt,
  from: z.array(z.enum(['queued', 'running', 'interrupted'])).min(1),
  to: z.enum(['cancelled', 'failed', 'interrupted']),
  reason: z.string().max(4000),
  error: z.string().max(64_000).nullish(),
  stopReason: z.string().max(100).nullish(),
});
export type TransitionBody = z.infer<typeof transitionBody>;

export const progressFields = z.strictObject({
  progressIteration: z.number().int().min(0).nullish(),
  progressTotal: z.number().int().min(0).nullish(),
  latestLoss: z.number().nullish(),
  latestValLoss: z.number().nullish(),
  trainerPid: z.number().int().nullish(),
});
export type ProgressFields = z.infer<typeof progressFields>;

/**
 * Lines [offset, offset + bytes) of the run's log (bytes counted as the trainer printed them, one newline per line,
 * across attempts). A chunk that ends at or before what the control plane already holds changes nothing.
 */
export const logChunkBody = z.strictObject({
  attempt,
  offset: z.number().int().min(0),
  bytes: z.number().int().min(0),
  lines: z
    .array(
      z.strictObject({
        seq: z.number().int().min(1),
        stream: z.enum(LOG_STREAMS),
        text: z.string(),
        at: z.number().int(),
      }),
    )
    .max(100_000),
  /** Printed lines the chunk stands for (lines past the log cap count but are not sent); default lines.length. */
  lineCount: z.number().int().min(0).optional(),
  /** Over the log cap: the lines strictly between these seqs are dropped (the head and the tail stay). */
  trim: z.strictObject({ afterSeq: z.number().int().min(0), beforeSeq: z.number().int().min(1) }).optional(),
  progress: progressFields.optional(),
});
export type LogChunkBody = z.infer<typeof logChunkBody>;

/** Metric points of the run's iterations; one (attempt, name, split, iteration) stored once however often sent. */
export const metricBatchBody = z.strictObject({
  attempt,
  points: z
    .array(
      z.strictObject({
        iteration: z.number().int().min(0),
        split: z.enum(METRIC_SPLITS),
        name: z.string().min(1).max(200),
        value: z.number().nullable(),
      }),
    )
    .max(100_000),
});
export type MetricBatchBody = z.infer<typeof metricBatchBody>;

/**
 * Consecutive log chunks and metric batches of one run in one call (a worker's spool draining a backlog), applied in
 * order in one transaction: each keeps its own idempotency (logs by byte offset, points by key).
 */
export const reportBatchBody = z.strictObject({
  reports: z
    .array(
      z.discriminatedUnion('kind', [
        z.strictObject({ kind: z.literal('logs'), body: logChunkBody }),
        z.strictObject({ kind: z.literal('metrics'), body: metricBatchBody }),
      ]),
    )
    .min(1)
    .max(1000),
});
export type ReportBatchBody = z.infer<typeof reportBatchBody>;

/** A file the worker uploaded to the blob store (PUT /v1/worker/blobs/:sha256) for the run. */
export const artifactBody = z.strictObject({
  attempt,
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/, 'a file name'),
  kind: z.enum(['checkpoint', 'adapter', 'file']),
  iteration: z.number().int().min(0).nullable(),
  sha256,
  bytes: z.number().int().min(0),
});
export type ArtifactBody = z.infer<typeof artifactBody>;

/** How an attempt ended; the control plane records it once and decides retry against its own settings. */
export const finishBody = z.strictObject({
  /** The trainer's out-of-memory text: the control plane records the advice and, with on_oom "reduce", retries smaller. */
  outOfMemory: z.string().max(4000).nullish(),
  attempt,
  outcome: z.enum(['succeeded', 'failed', 'cancelled', 'interrupted']),
  reason: z.string().max(4000),
  retryable: z.boolean().default(false),
  error: z.string().max(64_000).nullish(),
  stopReason: z.string().max(100).nullish(),
  exitCode: z.number().int().nullish(),
  signal: z.string().max(20).nullish(),
  checkpoints: z.array(z.string().max(300)).max(100_000).default([]),
  adapterFile: z.string().max(4096).nullish(),
});
export type FinishBody = z.infer<typeof finishBody>;
/** A finish as the worker writes it (defaults not yet applied). */
export type FinishInput = z.input<typeof finishBody>;

/** An error of the worker itself (not the trainer's) while it handled the run; the retry policy decides. */
export const workerErrorBody = z.strictObject({
  /** The attempt that was open, or null when the error came before one started. */
  attempt: attempt.nullable(),
  message: z.string().max(64_000),
  /** About the run itself (its uploaded dataset is gone): the same next time, so it fails at once. */
  permanent: z.boolean().default(false),
});
export type WorkerErrorBody = z.infer<typeof workerErrorBody>;

/** A problem that does not stop the run but must not pass silently (the log file cannot be written). */
/** `attempt` null: a note on a run the worker holds no attempt of (it handed the run back to the queue). */
export const runEventBody = z.strictObject({
  attempt: attempt.nullable(),
  message: z.string().min(1).max(4000),
});
export type RunEventBody = z.infer<typeof runEventBody>;

export const sha256Param = sha256;

/** The answers the worker reads: their schemas are the contract's (src/contract/worker-protocol.ts). */
export type {
  ControlAnswer,
  PlacedRunFields,
  RunState,
  StartAttemptAnswer,
  StartOutcome,
  StopSignal,
} from '../contract/worker-protocol.js';
