// The run record and its history rows (events, attempts, metrics, sweeps) as the rest of the service sees them.
import type { FieldIssue } from './errors.js';
import type { Method, TrainMode } from './methods.js';
import type { MetricPoint } from './metric-point.js';
import type { RunEnvironment } from './run-environment.js';
import type { OutOfMemory, RunMemory } from './run-memory.js';
import type { RunRequest } from './run-request.js';
import type { RunStatus } from './run-status.js';

/** Times are integer milliseconds since the epoch; JSON columns arrive parsed. */
export interface Run {
  id: string;
  name: string | null;
  method: Method;
  trainMode: TrainMode;
  model: string;
  data: string;
  status: RunStatus;
  priority: number;
  tags: string[];
  /** The normalised request the run was created from. */
  request: RunRequest;
  argv: string[];
  configYaml: string;
  warnings: FieldIssue[];
  runDir: string;
  adapterPath: string;
  /** Set on success: the adapter weights file inside adapterPath. */
  adapterFile: string | null;
  /** Checkpoint file names inside adapterPath, oldest first. */
  checkpoints: string[];
  sweepId: string | null;
  sweepIndex: number | null;
  sweepValues: Record<string, unknown> | null;
  idempotencyKey: string | null;
  /** 0 until a worker first starts the run; each entry into running adds one. */
  attempt: number;
  progressIteration: number | null;
  progressTotal: number | null;
  latestLoss: number | null;
  latestValLoss: number | null;
  error: string | null;
  exitCode: number | null;
  signal: string | null;
  mlxVersion: string | null;
  /** Where the run last trained: the worker, its versions, OS, chip, memory and the flag set its command used. */
  environment: RunEnvironment | null;
  worker: string | null;
  trainerPid: number | null;
  logBytes: number;
  logLines: number;
  cancelRequestedAt: number | null;
  stopReason: string | null;
  /** Earliest time the next attempt may start (set by a retry decision's backoff). */
  notBefore: number | null;
  /** Worker-side errors (I/O, SQLite) met so far. */
  workerErrors: number;
  datasetSha: string | null;
  createdAt: number;
  updatedAt: number;
  queuedAt: number | null;
  /** First time the run entered running (kept across attempts; see RunAttempt for each start). */
  startedAt: number | null;
  finishedAt: number | null;
  /** finishedAt - startedAt, wall time across attempts. */
  durationMs: number | null;
  /** The memory estimate against the workers, made at submit; null when the run predates estimates. */
  memory: RunMemory | null;
  /** The highest peak memory the trainer reported (peak_mem / Memory lines), over all attempts, in GB. */
  peakMemoryGb: number | null;
  /** Set when the trainer ran out of memory: measured peak, estimate, advice and any on_oom reductions. */
  outOfMemory: OutOfMemory | null;
}

/** What a caller supplies to create a run; the run starts queued. */
export interface NewRun {
  id: string;
  name?: string | null;
  method: Method;
  trainMode: TrainMode;
  model: string;
  data: string;
  priority?: number;
  tags?: string[];
  request: RunRequest;
  argv: string[];
  configYaml: string;
  warnings?: FieldIssue[];
  runDir: string;
  adapterPath: string;
  sweepId?: string | null;
  sweepIndex?: number | null;
  sweepValues?: Record<string, unknown> | null;
  idempotencyKey?: string | null;
  datasetSha?: string | null;
  memory?: RunMemory | null;
  /** Iterations expected from the request; the trainer's own count corrects it once it runs. */
  progressTotal?: number | null;
  /** Defaults to now. */
  createdAt?: number;
}

/**
 * One status change, including creation (fromStatus null), or a decision that kept the status (fromStatus equals
 * toStatus: a retry of a run that had not started, a job re-added by the reconciler, a recorded error).
 */
export interface RunEvent {
  id: number;
  runId: string;
  fromStatus: RunStatus | null;
  toStatus: RunStatus;
  attempt: number;
  reason: string | null;
  /** A retry decision's delay before the next attempt. */
  delayMs: number | null;
  at: number;
}

export type AttemptOutcome = Exclude<RunStatus, 'queued' | 'running'>;

/** One execution of a run by a worker; a resumed run has several. */
export interface RunAttempt {
  runId: string;
  attempt: number;
  worker: string;
  startedAt: number;
  finishedAt: number | null;
  outcome: AttemptOutcome | null;
  /** Checkpoint file the attempt resumed from. */
  resumedFrom: string | null;
  startIteration: number | null;
  exitCode: number | null;
  signal: string | null;
  /** The job delivery that asked for the attempt over the reporting protocol (null for in-process starts). */
  deliveryId: string | null;
  error: string | null;
}

export { METRIC_SPLITS, type MetricPoint, type MetricSplit } from './metric-point.js';

export interface MetricRow extends MetricPoint {
  runId: string;
  attempt: number;
}

export const SWEEP_STATUSES = ['active', 'cancelled', 'done'] as const;
export type SweepStatus = (typeof SWEEP_STATUSES)[number];
export type MetricGoal = 'min' | 'max';

export interface Sweep {
  id: string;
  name: string | null;
  /** The sweep specification as submitted (normalised). */
  spec: Record<string, unknown>;
  metricName: string | null;
  metricGoal: MetricGoal | null;
  status: SweepStatus;
  runCount: number;
  createdAt: number;
  updatedAt: number;
}

export const LOG_STREAMS = ['stdout', 'stderr', 'system'] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

/** One line of a run's output; seq orders lines within a run across attempts. */
export interface LogLine {
  seq: number;
  stream: LogStream;
  text: string;
  at: number;
}
