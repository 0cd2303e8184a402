// The train job's handler: load the run, drop a stale job, take over a run whose worker died, honour a cancel, run
// attempt n of job `train:<run>:<n>`, and tell BullMQ how the job ends; the next attempt is a job of its own.
import { DelayedError, type Job, type Queue, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';

import { getRun, recordRunEvent, transitionRun } from '../db/runs-repository.js';
import { ConflictError } from '../domain/errors.js';
import type { Run } from '../domain/run.js';
import { isFinal } from '../domain/run-status.js';
import { reasonsAgainst, subjectOfRun } from '../domain/worker-admission.js';
import type { WorkerEntry } from '../domain/worker-entry.js';
import { nextTrainJob, parseJobId, type TrainPayload } from '../shared/job-kinds.js';
import type { RunQueues } from '../shared/run-queues.js';
import type { StopReason } from './execute.js';
import { reclaimRun } from './recovery.js';
import { recordWorkerError } from './retry-decisions.js';
import { type AttemptDeps, runAttempt } from './run-attempt.js';
import { type WorkerIdentity, writeLease } from './run-lease.js';

export interface ProcessorDeps extends AttemptDeps {
  logger: Logger;
  /** This worker process, as written into the run lease. */
  self: WorkerIdentity;
  /** The runs queue, to add the job of a run's next attempt. */
  queue: Queue;
  /** The train queues: a run's next attempt goes to its placement's queue. */
  queues: RunQueues;
  /** This worker's registry entry now: WORKER_CHECKS judge a run against it before its trainer starts. */
  entry?: () => WorkerEntry;
  /** A job this worker handed back: it does not take it again until `untilMs`. */
  handBack?: (jobId: string, untilMs: number) => void;
}

/** A worker that handed a run back leaves it to the others this long before it looks at it again. */
export const HAND_BACK_MS = 60_000;

type Step =
  | { kind: 'done'; status: string }
  /** Put this same job back for later: no attempt was used (a live owner, a shutdown, a backoff not over). */
  | { kind: 'later'; delayMs: number }
  /** The run needs another attempt: its own job, `train:<run>:<n+1>`, added before this one completes. */
  | { kind: 'next' }
  | { kind: 'failed'; error: string };

export function createTrainHandler(deps: ProcessorDeps) {
  // Each (run, reason) a hand-back was recorded for: a run that waits for another worker gets one event per reason.
  const handedBack = new Set<string>();
  return async function processRun(payload: TrainPayload, job: Job, token: string | undefined): Promise<{ status: string }> {
    const log = deps.logger.child({ runId: payload.runId, jobId: job.id });
    const run = getRun(deps.db, payload.runId);
    if (!run) throw new UnrecoverableError(`Run ${payload.runId} does not exist`);
    // A job queued by an older version has no attempt number: it carries whatever the run needs next.
    const n = parseJobId(job.id)?.n ?? (run.status === 'running' ? run.attempt : run.attempt + 1);
    let step: Step;
    try {
      step = await advance({ ...deps, handedBack, jobId: job.id ?? '' }, run, n, token, log);
    } catch (e) {
      if (e instanceof UnrecoverableError) throw e;
      step = onWorkerError(deps, run.id, n, e, log);
    }
    return finish(deps, run.id, step, job, token, log);
  };
}

/** Everything up to and including the attempt, in the order of STYLE.md's job lifecycle. */
async function advance(deps: ProcessorDeps & { handedBack: Set<string>; jobId: string }, found: Run, n: number, token: string | undefined, log: Logger): Promise<Step> {
  let run = found;
  // Retries and redelivered jobs must be idempotent.
  if (isFinal(run.status)) return { kind: 'done', status: run.status };
  if (run.status === 'running') {
    if (n < run.attempt) return stale(run, n, log);
    // The job came back while its run is running: its worker died (stalled job), or lost its lock in a Redis
    // outage and trains on. Only a dead worker's run may be taken over; a live one's is looked at again later.
    const r = await reclaimRun({ ...deps, killGraceMs: deps.config.killGraceMs }, run);
    if (r.kind === 'owned') {
      log.warn({ owner: r.owner }, 'the run is still trained by a live worker; checking again later');
      return { kind: 'later', delayMs: deps.config.stalledIntervalMs };
    }
    run = getRun(deps.db, run.id)!;
    return isFinal(run.status) ? { kind: 'done', status: run.status } : { kind: 'next' };
  }
  if (n !== run.attempt + 1) return stale(run, n, log);
  if (run.cancelRequestedAt) return { kind: 'done', status: cancelBeforeStart(deps, run) };
  if (deps.shutdown.aborted) return { kind: 'later', delayMs: deps.config.resumeDelayMs };
  // A job re-added without its delay (or one that came early) waits out the run's backoff.
  if (run.notBefore !== null && run.notBefore > Date.now() + 50) return { kind: 'later', delayMs: run.notBefore - Date.now() };
  // This worker's trainer stopped passing its check after it took the job: the job goes back for another worker.
  if (deps.preflight.error) return { kind: 'later', delayMs: deps.config.resumeDelayMs };
  // A run this worker cannot hold (its memory, labels, pin, or a check added later) goes back for another worker.
  const refusal = deps.entry ? reasonsAgainst(subjectOfRun(run, deps.config.memoryMargin), deps.entry()) : [];
  if (refusal.length > 0) return handBack(deps, run, refusal.join('; '), log);
  // Before the run shows running: from now on a worker that finds this run running can ask whether we live.
  await writeLease(run.runDir, deps.self, token ?? null);
  await runAttempt(deps, run, log);
  const after = getRun(deps.db, run.id)!;
  switch (after.status) {
    case 'interrupted':
      return { kind: 'next' };
    case 'failed':
      return { kind: 'failed', error: after.error ?? 'failed' };
    case 'queued':
      // A cancel or another worker moved it before the attempt could start; look again at once.
      return after.attempt + 1 === n ? { kind: 'later', delayMs: 0 } : { kind: 'next' };
    default:
      return { kind: 'done', status: after.status };
  }
}

/** Puts the job back, unchanged and without using an attempt, for another worker; this one skips it for a while. */
async function handBack(deps: ProcessorDeps & { handedBack: Set<string>; jobId: string }, run: Run, reason: string, log: Logger): Promise<Step> {
  const name = deps.entry!().name;
  const key = `${run.id}\0${reason}`;
  if (!deps.handedBack.has(key)) {
    deps.handedBack.add(key);
    recordRunEvent(deps.db, run.id, `handed back by ${name}: it cannot train this run (${reason})`);
  }
  log.warn({ reason }, 'handing the run back: this worker cannot train it');
  deps.handBack?.(deps.jobId, Date.now() + HAND_BACK_MS);
  await deps.queues.wake();
  return { kind: 'later', delayMs: 0 };
}

function stale(run: Run, n: number, log: Logger): Step {
  log.info({ jobAttempt: n, runAttempt: run.attempt, status: run.status }, 'stale job: another job carries this run; dropping it');
  return { kind: 'done', status: run.status };
}

/** The retry policy decides; the run is never failed on the first worker error. */
function onWorkerError(deps: ProcessorDeps, runId: string, n: number, error: unknown, log: Logger): Step {
  log.error({ err: error }, 'worker error');
  let recorded: ReturnType<typeof recordWorkerError>;
  try {
    recorded = recordWorkerError(deps.db, deps.config, runId, error);
  } catch (e) {
    // SQLite itself fails: nothing can be written now. The job comes back after a backoff and tries again.
    log.error({ err: e }, 'could not record the worker error in SQLite; the job comes back later');
    return { kind: 'later', delayMs: deps.config.retryBaseDelayMs };
  }
  const { decision, run } = recorded;
  log.warn({ decision }, 'retry decision');
  if (!run || isFinal(run.status)) return run?.status === 'failed' ? { kind: 'failed', error: run.error ?? decision.reason } : { kind: 'done', status: run?.status ?? 'gone' };
  // An error before the attempt started leaves attempt n unused: this job waits out the backoff itself.
  if (run.attempt + 1 === n) return { kind: 'later', delayMs: Math.max(0, (run.notBefore ?? 0) - Date.now()) };
  return { kind: 'next' };
}

/** Tells BullMQ how the job ends. */
async function finish(deps: ProcessorDeps, runId: string, step: Step, job: Job, token: string | undefined, log: Logger): Promise<{ status: string }> {
  switch (step.kind) {
    case 'done':
      return { status: step.status };
    case 'failed':
      throw new UnrecoverableError(step.error);
    case 'later':
      // DelayedError: BullMQ counts no attempt.
      await job.moveToDelayed(Date.now() + step.delayMs, token);
      throw new DelayedError();
    case 'next': {
      const run = getRun(deps.db, runId)!;
      // Added before this job completes: a crash in between leaves two jobs (the stale one is dropped), never none.
      const next = nextTrainJob(run);
      await deps.queues.addTrainJobs([{ run, job: next }], deps.config.memoryMargin);
      log.info({ nextJob: next.opts.jobId, delayMs: next.opts.delay ?? 0 }, 'queued the next attempt');
      return { status: run.status };
    }
  }
}

/** A run cancelled while queued or interrupted never starts; returns its status afterwards. */
function cancelBeforeStart(deps: ProcessorDeps, run: Run): string {
  try {
    return transitionRun(deps.db, run.id, [run.status], 'cancelled', { finishedAt: Date.now(), stopReason: 'cancelled' }, 'cancelled before it started').status;
  } catch (e) {
    // The API moved it first (it cancels queued runs itself).
    if (e instanceof ConflictError) return getRun(deps.db, run.id)?.status ?? 'cancelled';
    throw e;
  }
}

export type { StopReason };
