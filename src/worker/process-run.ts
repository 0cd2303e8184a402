// The job processor: parse, load, return if final, take over a run whose worker died, honour a cancel, run an
// attempt, and tell BullMQ how the job ends (done, failed for good, or delayed to resume later).
import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';

import { getRun, transitionRun } from '../db/runs-repository.js';
import { ConflictError } from '../domain/errors.js';
import type { Run } from '../domain/run.js';
import { isFinal } from '../domain/run-status.js';
import { JOB_PAYLOADS } from '../shared/queue.js';
import type { StopReason } from './execute.js';
import { reclaimRun } from './recovery.js';
import { type AttemptDeps, runAttempt } from './run-attempt.js';
import { type WorkerIdentity, writeLease } from './run-lease.js';

export interface ProcessorDeps extends AttemptDeps {
  logger: Logger;
  /** This worker process, as written into the run lease. */
  self: WorkerIdentity;
}

/** An interrupted run goes back to the queue for this long before it resumes (lets a shutting-down worker exit). */
const RESUME_DELAY_MS = 1000;

type Step = { kind: 'done'; status: string } | { kind: 'requeue'; delayMs: number } | { kind: 'attempted'; outcome: string };

export function createProcessor(deps: ProcessorDeps) {
  return async function processRun(job: Job, token?: string): Promise<{ status: string }> {
    const parsed = JOB_PAYLOADS.train.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`Invalid job payload: ${parsed.error.message}`);
    const log = deps.logger.child({ runId: parsed.data.runId, jobId: job.id });
    const run = getRun(deps.db, parsed.data.runId);
    if (!run) throw new UnrecoverableError(`Run ${parsed.data.runId} does not exist`);
    let step: Step;
    try {
      step = await advance(deps, run, token, log);
    } catch (e) {
      if (e instanceof UnrecoverableError) throw e;
      // Every run reaches a final status: one the worker cannot handle fails with the reason instead of being
      // left queued or interrupted without a job.
      log.error({ err: e }, 'worker error; the run fails');
      failOnWorkerError(deps, run.id, e);
      throw new UnrecoverableError(`worker error: ${(e as Error).message}`);
    }
    switch (step.kind) {
      case 'done':
        return { status: step.status };
      case 'requeue':
        return requeue(job, token, step.delayMs);
      case 'attempted':
        return settle(deps, run.id, step.outcome, job, token, log);
    }
  };
}

/** Everything up to and including the attempt, in the order of STYLE.md's job lifecycle. */
async function advance(deps: ProcessorDeps, found: Run, token: string | undefined, log: Logger): Promise<Step> {
  let run = found;
  // Retries and redelivered jobs must be idempotent.
  if (isFinal(run.status)) return { kind: 'done', status: run.status };
  if (run.status === 'running') {
    // The job came back while its run is running: its worker died (stalled job), or lost its lock in a Redis
    // outage and trains on. Only a dead worker's run may be taken over; a live one's is looked at again later.
    const r = await reclaimRun({ ...deps, killGraceMs: deps.config.killGraceMs }, run);
    if (r.kind === 'owned') {
      log.warn({ owner: r.owner }, 'the run is still trained by a live worker; checking again later');
      return { kind: 'requeue', delayMs: deps.config.stalledIntervalMs };
    }
    run = getRun(deps.db, run.id)!;
    if (isFinal(run.status)) return { kind: 'done', status: run.status };
  }
  if (run.cancelRequestedAt) return { kind: 'done', status: cancelBeforeStart(deps, run) };
  if (deps.shutdown.aborted) return { kind: 'requeue', delayMs: RESUME_DELAY_MS };
  if (deps.preflight.error) {
    transitionRun(deps.db, run.id, [run.status], 'failed', { error: `mlx-lm-lora is not usable on worker ${deps.config.workerName}: ${deps.preflight.error}`, stopReason: 'preflight', finishedAt: Date.now() }, 'preflight');
    throw new UnrecoverableError(deps.preflight.error);
  }
  // Before the run shows running: from now on a worker that finds this run running can ask whether we live.
  await writeLease(run.runDir, deps.self, token ?? null);
  const outcome = await runAttempt(deps, run, log);
  return { kind: 'attempted', outcome: outcome?.status ?? 'not started' };
}

function failOnWorkerError(deps: ProcessorDeps, runId: string, error: unknown): void {
  const run = getRun(deps.db, runId);
  if (!run || isFinal(run.status)) return;
  const message = `The worker could not process the run: ${error instanceof Error ? error.message : String(error)}`;
  try {
    transitionRun(deps.db, runId, [run.status], 'failed', { error: message, stopReason: 'worker_error', finishedAt: Date.now() }, 'worker error');
  } catch (e) {
    // Someone moved it first (a cancel): that status stands.
    if (!(e instanceof ConflictError)) throw e;
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

/** Puts the job back in the queue for `delayMs`; BullMQ is told with DelayedError, so no attempt is counted. */
async function requeue(job: Job, token: string | undefined, delayMs: number): Promise<never> {
  await job.moveToDelayed(Date.now() + delayMs, token);
  throw new DelayedError();
}

/** Tells BullMQ how the job ends: done, failed for good, or back in the queue to resume. */
async function settle(deps: ProcessorDeps, runId: string, outcome: string, job: Job, token: string | undefined, log: Logger) {
  const run = getRun(deps.db, runId)!;
  switch (run.status) {
    case 'interrupted':
      log.info('re-queueing the run to resume');
      return requeue(job, token, RESUME_DELAY_MS);
    case 'failed':
      throw new UnrecoverableError(run.error ?? 'failed');
    default:
      return { status: run.status, outcome };
  }
}

export type { StopReason };
