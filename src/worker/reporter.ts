// The seam between the training path and the control plane: everything a worker reports about a run, or asks about
// it, goes through a Reporter. Two transports: in-process (the local worker of `npm start` calls the control plane's
// handlers in src/reports directly) and HTTP with an on-disk spool (src/worker/remote/http-reporter.ts). The
// training path (process-run, run-attempt, run-output-sink) knows only this interface, so one code path is tested.
import type { RunInputs } from '../contract/worker-protocol.js';
import type { MetricPoint } from '../domain/trainer-output.js';
import type {
  ArtifactBody,
  ControlAnswer,
  FinishInput,
  LogChunkBody,
  RunState,
  StartAttemptBody,
  StartOutcome,
  StopSignal,
} from '../shared/report-protocol.js';
import type { JobReporter } from './job-reporter.js';

/** What a worker needs before it starts an attempt: the run's data (resolved, maybe downloaded, first). */
export type { RunInputs };

/** The control plane says this attempt is over (taken over, lost, run final): stop the trainer, drop its reports. */
export class SupersededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SupersededError';
  }
}

/** The control plane refuses this worker's token (revoked): it stops taking work. */
export class RevokedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RevokedError';
  }
}

export interface AttemptHooks {
  /** The trainer must stop (cancel, early stop, superseded); may be called more than once. */
  onStop(signal: StopSignal): void;
}

/** The reports of one attempt, delivered in the order they are made. */
export interface AttemptReporter {
  logs(chunk: Omit<LogChunkBody, 'attempt'>): void;
  metrics(points: readonly MetricPoint[]): void;
  /** A problem that does not stop the run (recorded as a run event). */
  event(message: string): void;
  /** Uploads a file the trainer saved and records it for the run, in the background, in order. */
  upload(file: string, record: Omit<ArtifactBody, 'attempt' | 'sha256' | 'bytes'>): void;
  /** Whether the trainer must stop now; null when the control plane cannot be asked. */
  control(): Promise<ControlAnswer | null>;
  /** Records the end, after every report and upload before it; the run as it is afterwards. */
  finish(body: Omit<FinishInput, 'attempt'>): Promise<RunState>;
  /** Stops sending (after a worker error): what is unsent stays for a later replay where the transport keeps it. */
  close(): Promise<void>;
}

export interface Reporter {
  /** The name the control plane knows this worker by (attempts and the run's `worker` carry it). */
  readonly workerName: string;
  inputs(runId: string): Promise<RunInputs | null>;
  start(body: StartAttemptBody): Promise<StartOutcome>;
  attempt(runId: string, attempt: number, hooks: AttemptHooks): AttemptReporter;
  /** An error of the worker itself; the control plane's retry policy decides. Null when the run is gone. */
  workerError(
    runId: string,
    body: { attempt: number | null; message: string; permanent: boolean },
  ): Promise<RunState | null>;
  /** A note on a run this worker holds no attempt of (it handed the run back), recorded as a run event. */
  note(runId: string, message: string): Promise<void>;
  /** Puts uploaded blob `sha256` at `to` (resuming a run from a checkpoint another Mac uploaded). */
  download(sha256: string, to: string): Promise<void>;
  /** The follow-up jobs' reports (job-reporter.ts), over the same transport. */
  readonly jobs: JobReporter;
  close(): Promise<void>;
}
