// The answers of the worker routes (/v1/worker/*, worker token only): the reporting protocol's replies and the
// files by hash. The remote worker reads them by these types; zod and the domain only, so it loads no server code.
import { z } from 'zod';

import { placementSchema } from '../domain/placement.js';
import { RUN_STATUSES } from '../domain/run-status.js';
import { JsonObject } from './common.js';
import { RunMemory } from './memory.js';

const Int = z.number().int();
const RunStatus = z.enum(RUN_STATUSES);

/** A file (or a stream of bytes) as it is: blobs and dataset files. */
export const BYTES_ANSWER = {
  description: 'The bytes as stored (application/octet-stream)',
  content: { 'application/octet-stream': { schema: z.string() } },
};

/** PUT /v1/worker/blobs/:sha: 201 stored now, 200 already held. */
export const StoredBlob = z.strictObject({ sha256: z.string(), bytes: Int });
export type StoredBlob = z.infer<typeof StoredBlob>;

/** GET /v1/worker/datasets/:sha: the uploaded dataset's files and their sizes. */
export const DatasetManifest = z.strictObject({
  sha256: z.string(),
  files: z.array(z.strictObject({ file: z.string(), bytes: Int })),
});
export type DatasetManifest = z.infer<typeof DatasetManifest>;

/** What decides a run's queue (its placement, its memory estimate): a worker queues the next attempt by it. */
export const PlacedRunFields = z.strictObject({
  request: z.looseObject({ placement: placementSchema.optional() }),
  memory: RunMemory.nullable(),
});
export type PlacedRunFields = z.infer<typeof PlacedRunFields>;

/** GET /v1/worker/runs/:id/inputs: what a worker needs before it starts an attempt (it fetches the data first). */
export const RunInputs = PlacedRunFields.extend({
  status: RunStatus,
  data: z.string(),
  datasetSha: z.string().nullable(),
});
export type RunInputs = z.infer<typeof RunInputs>;

/** The run after a finish or a worker error: what the worker needs to queue the run's next attempt. */
export const RunState = PlacedRunFields.extend({
  status: RunStatus,
  attempt: Int,
  priority: Int,
  notBefore: Int.nullable(),
  error: z.string().nullable(),
});
export type RunState = z.infer<typeof RunState>;

/** POST /v1/worker/runs/:id/error: the run as it is now, or "gone" when it no longer exists. */
export const WorkerErrorAnswer = z.union([
  RunState,
  z.strictObject({
    status: z.literal('gone'),
    attempt: Int,
    priority: Int,
    notBefore: z.null(),
    error: z.null(),
  }),
]);

/** POST /v1/worker/runs/:id/transition: the run's status and attempt after the change. */
export const TransitionAnswer = z.strictObject({ status: RunStatus, attempt: Int });

/** Why the worker must stop its trainer. */
export const StopSignal = z.strictObject({
  stopReason: z.enum(['cancelled', 'early_stopped', 'superseded']),
  reason: z.string(),
});
export type StopSignal = z.infer<typeof StopSignal>;

/** GET /v1/worker/runs/:id/control: whether to stop the trainer. */
export const ControlAnswer = z.strictObject({
  status: RunStatus,
  attempt: Int,
  cancel: z.boolean(),
  /** Set when the trainer must stop, and why (a cancel, the sweep's median rule, another attempt took over). */
  stop: StopSignal.nullable(),
});
export type ControlAnswer = z.infer<typeof ControlAnswer>;

/** POST /v1/worker/runs/:id/logs */
export const LogChunkAnswer = z.strictObject({
  /** The log's length the control plane now holds, in bytes. */
  accepted: Int,
  duplicate: z.boolean(),
});
export type LogChunkAnswer = z.infer<typeof LogChunkAnswer>;

/** POST /v1/worker/runs/:id/metrics: the points stored, and the control answer (a stop rides on it). */
export const MetricBatchAnswer = ControlAnswer.extend({ stored: Int, duplicate: z.boolean() });
export type MetricBatchAnswer = z.infer<typeof MetricBatchAnswer>;

/** POST /v1/worker/runs/:id/reports: the log's length held, the points stored, and the control answer. */
export const ReportBatchAnswer = ControlAnswer.extend({
  /** The log's length the control plane now holds, in bytes. */
  accepted: Int,
  stored: Int,
  /** Reports of the batch that changed nothing (sent before). */
  duplicates: Int,
});
export type ReportBatchAnswer = z.infer<typeof ReportBatchAnswer>;

/** POST /v1/worker/runs/:id/artifacts: the record as taken. */
export const RecordedArtifact = z.strictObject({ name: z.string(), sha256: z.string(), bytes: Int });

/** POST /v1/worker/runs/:id/events */
export const RecordedEvent = z.strictObject({ recorded: z.literal(true) });

/** What the worker needs to train the attempt it was given. */
export const StartAttemptAnswer = z.strictObject({
  runId: z.string(),
  attempt: Int,
  request: JsonObject,
  configYaml: z.string(),
  data: z.string(),
  datasetSha: z.string().nullable(),
  progressTotal: Int.nullable(),
  /** Where this attempt's log continues: the byte offset and the last seq the control plane holds. */
  log: z.strictObject({ offset: Int, seq: Int }),
  /** The newest checkpoint to resume from, or null to start from scratch: uploaded (sha256 set) or the worker's own. */
  resume: z
    .strictObject({
      iteration: Int,
      total: Int,
      name: z.string(),
      sha256: z.string().nullable(),
      bytes: Int.nullable(),
    })
    .nullable(),
  /** The command recorded at submit (control-plane paths): used as is by a worker that shares the run folder. */
  argv: z.array(z.string()),
  runDir: z.string(),
  model: z.string(),
  sweepId: z.string().nullable(),
  priority: Int,
});
export type StartAttemptAnswer = z.infer<typeof StartAttemptAnswer>;

/** POST /v1/worker/attempts */
export const StartOutcome = z.discriminatedUnion('outcome', [
  StartAttemptAnswer.extend({ outcome: z.literal('started') }),
  /** The run is over: the worker drops the job. */
  z.strictObject({ outcome: z.literal('final'), status: RunStatus }),
  /** The job is for an attempt already used (another job carries the run): the worker drops it. */
  z.strictObject({ outcome: z.literal('stale'), status: RunStatus, reason: z.string() }),
  /** Another attempt holds the run, or its backoff is not over: the worker puts the job back for later. */
  z.strictObject({
    outcome: z.literal('busy'),
    reason: z.string(),
    running: z.boolean(),
    delayMs: Int.nullable(),
  }),
]);
export type StartOutcome = z.infer<typeof StartOutcome>;
