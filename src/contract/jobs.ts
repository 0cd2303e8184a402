// The answers of the follow-up job and artifact routes: a job, a run's jobs, an artifact, a run's artifacts.
import { z } from 'zod';

import { ARTIFACT_KINDS, JOB_KIND_NAMES, JOB_STATUSES } from '../domain/follow-up-job.js';
import { IsoTime, JsonNumber, JsonObject, NullableIsoTime } from './common.js';

export const JobView = z.strictObject({
  id: z.string(),
  runId: z.string(),
  kind: z.enum(JOB_KIND_NAMES),
  options: JsonObject,
  status: z.enum(JOB_STATUSES),
  origin: z.enum(['request', 'after', 'best_after']),
  parentJobId: z.string().nullable(),
  result: JsonObject.nullable(),
  error: z.string().nullable(),
  attempt: z.number().int(),
  worker: z.string().nullable(),
  cancelRequestedAt: NullableIsoTime,
  createdAt: IsoTime,
  startedAt: NullableIsoTime,
  finishedAt: NullableIsoTime,
});
export type JobView = z.infer<typeof JobView>;

/** POST /v1/runs/:id/jobs (201): the job asked for, and the jobs it waits for (a fuse before an export). */
export const CreatedJob = JobView.extend({ chain: z.array(JobView) });
export type CreatedJob = z.infer<typeof CreatedJob>;

/** GET /v1/jobs/:id: the job and the last lines of its log. */
export const JobDetail = JobView.extend({ logTail: z.array(z.string()) });
export type JobDetail = z.infer<typeof JobDetail>;

export const RunJobs = z.strictObject({ runId: z.string(), items: z.array(JobView) });
export type RunJobs = z.infer<typeof RunJobs>;

export const ArtifactView = z.strictObject({
  id: z.string(),
  runId: z.string(),
  jobId: z.string().nullable(),
  kind: z.enum(ARTIFACT_KINDS),
  /** The download's file name (a folder comes as `<name>.tar`). */
  name: z.string(),
  path: z.string(),
  isDir: z.boolean(),
  bytes: z.number().int(),
  sha256: z.string(),
  verified: z.boolean().nullable(),
  createdAt: IsoTime,
  downloadUrl: z.string(),
});
export type ArtifactView = z.infer<typeof ArtifactView>;

export const RunArtifacts = z.strictObject({ runId: z.string(), items: z.array(ArtifactView) });
export type RunArtifacts = z.infer<typeof RunArtifacts>;

/* The result of each kind as the pages and the CLI read it (open objects: a kind may record more). */
const Generation = z.looseObject({
  text: z.string(),
  generationTokens: z.number().int(),
  generationTps: z.number(),
  peakMemoryGb: z.number(),
});

export const EvaluateResult = z.looseObject({
  test_loss: JsonNumber,
  test_ppl: JsonNumber,
  batches: z.number().int(),
  /** Null when the tool printed no token count; tokens_note says why. */
  tokens: z.number().int().nullable(),
  tokens_note: z.string().optional(),
  tool: z.string(),
  data: z.string(),
});
export type EvaluateResult = z.infer<typeof EvaluateResult>;

export const SamplesResult = z.looseObject({
  max_tokens: z.number().int(),
  prompts: z.array(
    z.looseObject({ prompt: z.string(), base: Generation, adapter: Generation, differs: z.boolean() }),
  ),
  differing: z.number().int(),
});
export type SamplesResult = z.infer<typeof SamplesResult>;

export const FuseResult = z.looseObject({
  path: z.string(),
  verified: z.boolean().nullable(),
  dequantized: z.boolean().optional(),
});
export type FuseResult = z.infer<typeof FuseResult>;

export const ExportResult = z.looseObject({
  format: z.string(),
  path: z.string(),
  command: z.string().optional(),
});
export type ExportResult = z.infer<typeof ExportResult>;
