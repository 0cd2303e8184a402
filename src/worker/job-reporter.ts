// The seam between a follow-up job (evaluate, samples, fuse, export) and the control plane, beside the Reporter of
// runs: the job's start (compare-and-set, with its inputs by hash), its log, the files it made, the cancel poll and
// its finish. The same two transports: in-process (in-process-job-reporter.ts) and HTTP with an on-disk spool
// (remote/http-job-reporter.ts). The follow-up path (follow-up/process-follow-up.ts) knows only this interface.
import type {
  JobArtifactAnswer,
  JobArtifactBody,
  JobFinishInput,
  JobStartBody,
  JobStartOutcome,
  JobState,
} from '../contract/job-protocol.js';

export interface JobHooks {
  /** The control plane says the attempt is over (another worker holds the job, or it was revoked): stop the tool. */
  onStop(reason: string): void;
}

/** What the worker records of a file or folder it made: the rest (hash, size) the transport measures. */
export type JobOutputRecord = Pick<JobArtifactBody, 'kind' | 'rel' | 'verified'>;

/** The reports of one attempt of a job, delivered in the order they are made. */
export interface JobAttemptReporter {
  /** Text for the job's log (whole lines). */
  log(text: string): void;
  /** Stores a file or folder this attempt made with the control plane and records it; its place there. */
  upload(target: string, record: JobOutputRecord): Promise<JobArtifactAnswer>;
  /** The job as the control plane has it (a cancel rides on it); null when it cannot be asked. */
  control(): Promise<JobState | null>;
  /** Records the end, after every log line before it. */
  finish(body: Omit<JobFinishInput, 'attempt'>): Promise<JobState>;
  /** Stops sending (after a worker error): what is unsent stays for a later replay where the transport keeps it. */
  close(): Promise<void>;
}

export interface JobReporter {
  /** True where the worker shares the control plane's disk: its inputs are in place, its outputs recorded where they are. */
  readonly sharesDisk: boolean;
  start(jobId: string, body: JobStartBody): Promise<JobStartOutcome>;
  attempt(jobId: string, attempt: number, logBytes: number, hooks: JobHooks): JobAttemptReporter;
  /** Puts the content-store blob `sha256` at `to` (the run's adapter files). */
  fetchBlob(sha256: string, to: string): Promise<void>;
  /** Puts the fused model of the job before `jobId` in its chain, as its tar with hash `sha256`, at `to`. */
  fetchParentOutput(jobId: string, sha256: string, to: string): Promise<void>;
}
