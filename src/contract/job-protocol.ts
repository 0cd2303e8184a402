// The reporting protocol of follow-up jobs (evaluate, samples, fuse, export) between a worker and the control plane:
// the bodies both sides parse and the answers of /v1/worker/jobs/*. Every message names its job and attempt and is
// idempotent, as for runs (src/shared/report-protocol.ts). Zod and the domain only: a remote worker loads no server code.
import { z } from 'zod';

import { ARTIFACT_KINDS, JOB_KIND_NAMES, JOB_STATUSES } from '../domain/follow-up-job.js';
import { JsonObject } from './common.js';

const Int = z.number().int();
const attempt = Int.min(0);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'a lower-case hex SHA-256');
const JobStatus = z.enum(JOB_STATUSES);

/** POST /v1/worker/jobs/:id/start: the delivery's attempt (`<kind>:<job>:<n>`), compare-and-set queued -> running. */
export const JobStartBody = z.strictObject({ jobAttempt: Int.min(1) });
export type JobStartBody = z.infer<typeof JobStartBody>;

/** A file the worker needs, by content: it downloads blob `sha256` unless it holds the same bytes already. */
export const JobInputFile = z.strictObject({ name: z.string(), sha256, bytes: Int, isDir: z.boolean() });
export type JobInputFile = z.infer<typeof JobInputFile>;

/** What a worker needs to run the job it was given: the job, its run (control-plane paths) and inputs by hash. */
export const JobStartedAnswer = z.strictObject({
  outcome: z.literal('started'),
  job: z.strictObject({
    id: z.string(),
    runId: z.string(),
    kind: z.enum(JOB_KIND_NAMES),
    options: JsonObject,
    attempt: Int,
    parentJobId: z.string().nullable(),
  }),
  run: z.strictObject({
    id: z.string(),
    name: z.string().nullable(),
    method: z.string(),
    model: z.string(),
    data: z.string(),
    datasetSha: z.string().nullable(),
    request: JsonObject,
    argv: z.array(z.string()),
  }),
  /** The run's adapter files (adapter_config.json, adapters.safetensors), in the control plane's store. */
  adapter: z.array(JobInputFile),
  /** The job before it in its chain (an export's fuse), with the folder it made (by hash) when it succeeded. */
  parent: z
    .strictObject({
      id: z.string(),
      status: JobStatus,
      error: z.string().nullable(),
      result: JsonObject.nullable(),
      output: JobInputFile.nullable(),
    })
    .nullable(),
  /** Where the job's log continues, in bytes (earlier attempts' lines stay). */
  logBytes: Int,
});
export type JobStartedAnswer = z.infer<typeof JobStartedAnswer>;

export const JobStartOutcome = z.discriminatedUnion('outcome', [
  JobStartedAnswer,
  /** The job is over (or was cancelled before it started): the worker drops the delivery. */
  z.strictObject({ outcome: z.literal('final'), status: JobStatus }),
  /** The delivery is for an attempt already used: the worker drops it. */
  z.strictObject({ outcome: z.literal('stale'), reason: z.string() }),
  /** Another worker runs it (`running`), or the job before it in its chain is not over: put it back for later. */
  z.strictObject({
    outcome: z.literal('busy'),
    reason: z.string(),
    running: z.boolean(),
    worker: z.string().nullable(),
  }),
]);
export type JobStartOutcome = z.infer<typeof JobStartOutcome>;

/** POST /v1/worker/jobs/:id/logs: bytes [offset, offset + text's UTF-8 length) of the job's log. */
export const JobLogBody = z.strictObject({ attempt, offset: Int.min(0), text: z.string().max(16_000_000) });
export type JobLogBody = z.infer<typeof JobLogBody>;

export const JobLogAnswer = z.strictObject({ accepted: Int, duplicate: z.boolean() });

/**
 * POST /v1/worker/jobs/:id/artifacts: a file or folder (as its deterministic tar) the worker uploaded to the blob
 * store. `rel` is its place in the run's folder (`fused/<job>`); null for one written outside it (LM Studio's
 * folder), which the control plane keeps under exports/<job>-<kind>/<name>.
 */
export const JobArtifactBody = z.strictObject({
  attempt,
  kind: z.enum(ARTIFACT_KINDS),
  rel: z
    .string()
    .max(1000)
    .regex(/^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[A-Za-z0-9._/-]+$/, 'a relative path inside the run folder')
    .nullable(),
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/, 'a file name'),
  isDir: z.boolean(),
  sha256,
  bytes: Int.min(0),
  verified: z.boolean().nullable(),
});
export type JobArtifactBody = z.infer<typeof JobArtifactBody>;

/** The artifact as recorded: its id and where it is on the control plane. */
export const JobArtifactAnswer = z.strictObject({ id: z.string(), path: z.string(), sha256: z.string() });
export type JobArtifactAnswer = z.infer<typeof JobArtifactAnswer>;

/** POST /v1/worker/jobs/:id/finish: how the attempt ended; `queued` puts the job back (the worker stopped). */
export const JobFinishBody = z.strictObject({
  attempt,
  outcome: z.enum(['succeeded', 'failed', 'cancelled', 'queued']),
  result: JsonObject.nullable().default(null),
  error: z.string().max(64_000).nullable().default(null),
});
export type JobFinishBody = z.infer<typeof JobFinishBody>;
export type JobFinishInput = z.input<typeof JobFinishBody>;

/** The job after a finish, or on a control poll. */
export const JobState = z.strictObject({
  status: JobStatus,
  attempt: Int,
  worker: z.string().nullable(),
  cancel: z.boolean(),
});
export type JobState = z.infer<typeof JobState>;
