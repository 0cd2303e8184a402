// Follow-up jobs of a succeeded run and the artifacts runs produce: kinds, statuses, transitions, the job record.
import { InvalidTransitionError } from './errors.js';

export const JOB_KIND_NAMES = ['evaluate', 'samples', 'fuse', 'export'] as const;
export type JobKindName = (typeof JOB_KIND_NAMES)[number];

/** The same statuses as a run, without `interrupted`: a job whose worker died is queued again. */
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = Object.freeze({
  queued: ['running', 'cancelled', 'failed'],
  running: ['succeeded', 'failed', 'cancelled', 'queued'],
  succeeded: [],
  failed: [],
  cancelled: [],
});

export type JobOrigin = 'request' | 'after' | 'best_after';

export const ARTIFACT_KINDS = [
  'adapter',
  'checkpoint',
  'fused_model',
  'gguf',
  'quantized_model',
  'lmstudio',
  'ollama',
  'eval_report',
  'samples',
] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export function assertJobTransition(from: JobStatus, to: JobStatus): void {
  if (!JOB_TRANSITIONS[from].includes(to)) throw new InvalidTransitionError<JobStatus>(from, to, 'job');
}

export function isJobFinal(status: JobStatus): boolean {
  return JOB_TRANSITIONS[status].length === 0;
}

export interface FollowUpJob {
  id: string;
  runId: string;
  kind: JobKindName;
  options: Record<string, unknown>;
  status: JobStatus;
  origin: JobOrigin;
  parentJobId: string | null;
  result: Record<string, unknown> | null;
  error: string | null;
  jobDir: string;
  attempt: number;
  worker: string | null;
  cancelRequestedAt: number | null;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface Artifact {
  id: string;
  runId: string;
  jobId: string | null;
  kind: ArtifactKind;
  path: string;
  isDir: boolean;
  bytes: number;
  sha256: string;
  verified: boolean | null;
  createdAt: number;
}
