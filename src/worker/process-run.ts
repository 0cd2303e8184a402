// The train job's handler: ask the control plane to start attempt n of job `train:<run>:<n>` (it drops a stale or
// final job, holds back an early one, cancels a cancelled one), take over a run whose local worker died, run the
// attempt, and tell BullMQ how the job ends; the next attempt is a job of its own. Everything about the run goes
// through the Reporter (in-process or HTTP), so the local and the remote worker run this same code.
import path from 'node:path';

import { DelayedError, type Job, type Queue, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';

import { DomainError } from '../domain/errors.js';
import { adapterDirOf, runDirOf } from '../domain/run-folder.js';
import { isFinal } from '../domain/run-status.js';
import { reasonsAgainst, subjectOfRun } from '../domain/worker-admission.js';
import type { WorkerEntry } from '../domain/worker-entry.js';
import { errorText } from '../shared/error-text.js';
import { nextTrainJob, parseJobId, type TrainPayload } from '../shared/job-kinds.js';
import type { RunState } from '../shared/report-protocol.js';
import type { RunQueues } from '../shared/run-queues.js';
import { settleLeftoverAttemptDirs } from './attempt-adapters.js';
import type { StopReason } from './execute.js';
import { RevokedError, type RunInputs, SupersededError } from './reporter.js';
import { listCheckpoints } from './resume-point.js';
import { type AttemptDeps, runAttempt } from './run-attempt.js';
import { runEnvironment } from './run-environment.js';
import { isOwnLease, leaseOwnerAlive, readLease, type WorkerIdentity, writeLease } from './run-lease.js';

export interface ProcessorDeps extends AttemptDeps {
  logger: Logger;
  /** This worker process, as written into the run lease. */
  self: WorkerIdentity;
  /** The runs (and follow-up jobs) this worker holds now, each with the controller that stops it. */
  active: Map<string, AbortController>;
  /** The runs queue. */
  queue: Queue;
  /** The train queues: a run's next attempt goes to its placement's queue. */
  queues: RunQueues;
  /** This worker's registry entry now: WORKER_CHECKS judge a run against it before its trainer starts. */
  entry?: () => WorkerEntry;
  /** A job this worker handed back: it does not take it again until `untilMs`. */
  handBack?: (jobId: string, untilMs: number) => void;
  /** The run's data as a folder on this worker: a path checked here, an upload from the cache (or DATA_DIR). */
  resolveData: (data: string) => Promise<string>;
  /** Remote worker: throws when a path of the request (a local model, a file) is not on this Mac. */
  checkPaths?: (request: Record<string, unknown>) => Promise<void>;
  /**
   * Local worker only: a run found running whose worker on this host died is taken over (its trainer stopped, the
   * run interrupted). A remote worker leaves lost workers to the control plane.
   */
  reclaim?: (runId: string) => Promise<'owned' | RunState>;
  /** The control plane refused this worker's token. */
  onRevoked?: (error: RevokedError) => void;
}

/** A worker that handed a run back leaves it to the others this long before it looks at it again. */
export const HAND_BACK_MS = 60_000;

type Step =
  | { kind: 'done'; status: string }
  /** Put this same job back for later: no attempt was used (a live owner, a shutdown, a backoff not over). */
  | { kind: 'later'; delayMs: number }
  /** The run needs another attempt: its own job, `train:<run>:<n+1>`, added before this one completes. */
  | { kind: 'next'; run: RunState }
  | { kind: 'failed'; error: string };

export function createTrainHandler(deps: ProcessorDeps) {
  // Each (run, reason) a hand-back was recorded for: a run that waits for another worker gets one event per reason.
  const handedBack = new Set<string>();
  return async function processRun(
    payload: TrainPayload,
    job: Job,
    token: string | undefined,
  ): Promise<{ status: string }> {
    const runId = payload.runId;
    const log = deps.logger.child({ runId, jobId: job.id });
    const n = parseJobId(job.id)?.n;
    const opened: { attempt: number | null } = { attempt: null };
    let step: Step;
    try {
      step = await advance({ ...deps, handedBack }, runId, n, job, token, opened, log);
    } catch (e) {
      if (e instanceof UnrecoverableError) throw e;
      step = await onError(deps, runId, n, opened.attempt, e, log);
    }
    return finish(deps, runId, step, job, token, log);
  };
}

/** Everything up to and including the attempt, in the order of STYLE.md's job lifecycle. */
async function advance(
  deps: ProcessorDeps & { handedBack: Set<string> },
  runId: string,
  n: number | undefined,
  job: Job,
  token: string | undefined,
  opened: { attempt: number | null },
  log: Logger,
): Promise<Step> {
  if (deps.shutdown.aborted) return { kind: 'later', delayMs: deps.config.resumeDelayMs };
  // This worker's trainer stopped passing its check after it took the job: the job goes back for another worker.
  if (deps.preflight.error) return { kind: 'later', delayMs: deps.config.resumeDelayMs };
  const inputs = await deps.reporter.inputs(runId);
  if (!inputs) throw new UnrecoverableError(`Run ${runId} does not exist`);
  if (isFinal(inputs.status)) return { kind: 'done', status: inputs.status };
  // A run this worker cannot hold (its memory, labels, pin, or a check added later) goes back for another worker.
  const refusal =
    deps.entry && inputs.status !== 'running'
      ? reasonsAgainst(subjectOfRun(inputs, deps.config.memoryMargin), deps.entry())
      : [];
  if (refusal.length > 0) return handBack(deps, runId, inputs, job.id ?? '', refusal.join('; '), log);
  const runDir = runDirOf(deps.config.dataDir, runId);
  // Before the attempt: the data is here (downloaded, or a path checked), so a missing one fails without an attempt.
  if (inputs.status !== 'running') await deps.checkPaths?.(inputs.request);
  let dataDir = inputs.status === 'running' ? null : await deps.resolveData(inputs.data);
  const adapters = adapterDirOf(runDir);
  await settleLeftoverAttemptDirs(adapters);
  const own = (await listCheckpoints(adapters)).map((c) => ({
    name: path.basename(c.adapterFile),
    iteration: c.iteration,
  }));
  // Before the run shows running: from now on a worker on this host that finds it running can ask whether we live.
  // A live owner's lease (a duplicate delivery, a lock lapsed in a Redis outage) is left alone, even when that owner
  // is another worker of this very process.
  // From before the run shows running until its attempt is reported, the run is this worker's active one: its own
  // recovery pass (every stalled interval) must never take it for a run a dead process left behind.
  const controller = new AbortController();
  deps.active.set(runId, controller);
  try {
    const lease = await readLease(runDir);
    if (!lease || isOwnLease(lease, deps.self) || !(await leaseOwnerAlive(lease, deps.self)))
      await writeLease(runDir, deps.self, token ?? null);
    const answer = await deps.reporter.start({
      runId,
      deliveryId: `${job.id ?? runId}@${token ?? 'none'}`,
      jobAttempt: n,
      mlxVersion: deps.preflight.version,
      environment: runEnvironment(deps.reporter.workerName, deps.preflight),
      checkpoints: own,
    });
    switch (answer.outcome) {
      case 'final':
        return { kind: 'done', status: answer.status };
      case 'stale':
        log.info({ jobAttempt: n, status: answer.status }, `stale job: ${answer.reason}; dropping it`);
        return { kind: 'done', status: answer.status };
      case 'busy': {
        if (!answer.running) return { kind: 'later', delayMs: answer.delayMs ?? 0 };
        // The job came back while its run is running: its worker died (stalled job), or lost its lock in a Redis
        // outage and trains on. Only a dead worker's run may be taken over; a live one's is looked at again later.
        const r = deps.reclaim ? await deps.reclaim(runId) : 'owned';
        if (r === 'owned') {
          log.warn(`${answer.reason}; checking again later`);
          return { kind: 'later', delayMs: deps.config.stalledIntervalMs };
        }
        return isFinal(r.status) ? { kind: 'done', status: r.status } : { kind: 'next', run: r };
      }
      case 'started':
        break;
    }
    opened.attempt = answer.attempt;
    dataDir ??= await deps.resolveData(answer.data);
    const after = await runAttempt(deps, answer, { runDir, dataDir }, controller, log);
    switch (after.status) {
      case 'interrupted':
        return { kind: 'next', run: after };
      case 'failed':
        return { kind: 'failed', error: after.error ?? 'failed' };
      default:
        return { kind: 'done', status: after.status };
    }
  } finally {
    if (deps.active.get(runId) === controller) deps.active.delete(runId);
  }
}

/** Puts the job back, unchanged and without using an attempt, for another worker; this one skips it for a while. */
async function handBack(
  deps: ProcessorDeps & { handedBack: Set<string> },
  runId: string,
  _inputs: RunInputs,
  jobId: string,
  reason: string,
  log: Logger,
): Promise<Step> {
  const name = deps.entry!().name;
  const key = `${runId}\0${reason}`;
  if (!deps.handedBack.has(key)) {
    deps.handedBack.add(key);
    await deps.reporter.note(runId, `handed back by ${name}: it cannot train this run (${reason})`);
  }
  log.warn({ reason }, 'handing the run back: this worker cannot train it');
  deps.handBack?.(jobId, Date.now() + HAND_BACK_MS);
  await deps.queues.wake();
  return { kind: 'later', delayMs: 0 };
}

/** A superseded attempt or a revoked worker ends the job; any other error goes to the retry policy (never fails the run at once). */
async function onError(
  deps: ProcessorDeps,
  runId: string,
  n: number | undefined,
  attempt: number | null,
  error: unknown,
  log: Logger,
): Promise<Step> {
  if (error instanceof SupersededError) {
    log.warn({ err: error.message }, 'the control plane moved the run on; this attempt is over');
    return { kind: 'done', status: 'superseded' };
  }
  if (error instanceof RevokedError) {
    log.error({ err: error.message }, 'this worker was revoked: it stops taking work');
    deps.onRevoked?.(error);
    // A job it had not started goes back for another worker; a run it trained is handed over by the control plane.
    return attempt === null ? { kind: 'later', delayMs: 0 } : { kind: 'done', status: 'revoked' };
  }
  log.error({ err: error }, 'worker error');
  let run: RunState | null;
  try {
    run = await deps.reporter.workerError(runId, {
      attempt,
      message: errorText(error),
      permanent: error instanceof DomainError,
    });
  } catch (e) {
    // The error cannot be recorded now (SQLite fails, the control plane is unreachable): the job comes back later.
    log.error({ err: e }, 'could not record the worker error; the job comes back later');
    return { kind: 'later', delayMs: deps.config.retryBaseDelayMs };
  }
  if (!run || isFinal(run.status))
    return run?.status === 'failed'
      ? { kind: 'failed', error: run.error ?? 'failed' }
      : { kind: 'done', status: run?.status ?? 'gone' };
  // An error before the attempt started leaves attempt n unused: this job waits out the backoff itself.
  if (n === undefined || run.attempt + 1 === n)
    return { kind: 'later', delayMs: Math.max(0, (run.notBefore ?? 0) - Date.now()) };
  return { kind: 'next', run };
}

/** Tells BullMQ how the job ends. */
async function finish(
  deps: ProcessorDeps,
  runId: string,
  step: Step,
  job: Job,
  token: string | undefined,
  log: Logger,
): Promise<{ status: string }> {
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
      // Added before this job completes: a crash in between leaves two jobs (the stale one is dropped), never none.
      const next = nextTrainJob({ id: runId, ...step.run });
      await deps.queues.addRunJobs([{ run: step.run, job: next }], deps.config.memoryMargin);
      log.info({ nextJob: next.opts.jobId, delayMs: next.opts.delay ?? 0 }, 'queued the next attempt');
      return { status: step.run.status };
    }
  }
}

export type { StopReason };
