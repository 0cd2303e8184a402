// The control plane's side of an attempt's life: start it for a job delivery, status changes the worker asks for,
// the finish, worker errors, and the control poll. Each call is idempotent and every status write is compare-and-set.
// The local worker calls these directly (src/worker/in-process-reporter.ts), a remote one over HTTP. The start
// (attempt-start.ts) and the finish (attempt-finish.ts) are re-exported from here.
import type { Db } from '../db/client.js';
import { finishAttempt, getRun, recordRunEvent, requireRun, transitionRun } from '../db/runs-repository.js';
import { withTransaction } from '../db/transaction.js';
import type { Run } from '../domain/run.js';
import { isFinal } from '../domain/run-status.js';
import type { Config } from '../shared/config.js';
import type {
  ControlAnswer,
  RunEventBody,
  RunState,
  StartOutcome,
  TransitionBody,
  WorkerErrorBody,
} from '../shared/report-protocol.js';
import { getAttemptRow, requireOpenAttempt, StaleAttemptError } from './attempt-guard.js';
import { earlyStopOf, forgetEarlyStop } from './early-stops.js';
import { recordWorkerError } from './retry-decisions.js';

export type { StartOutcome };
export { finishAttemptReport, finishReport } from './attempt-finish.js';
export { startAttemptReport } from './attempt-start.js';

export function runState(run: Run): RunState {
  return {
    status: run.status,
    attempt: run.attempt,
    priority: run.priority,
    notBefore: run.notBefore,
    error: run.error,
    request: run.request,
    memory: run.memory,
  };
}

/** A status change the worker asks for (cancel before start, a preflight failure, a worker error mid-run). */
export function transitionReport(
  db: Db,
  worker: string,
  runId: string,
  body: TransitionBody,
  now = Date.now(),
): Run {
  return withTransaction(db, () => {
    const run = requireRun(db, runId);
    if (run.status === body.to && run.attempt === body.attempt) return run; // a retried call
    if (run.attempt !== body.attempt)
      throw new StaleAttemptError(`run ${runId} is at attempt ${run.attempt}, not ${body.attempt}`);
    if (run.status === 'running') requireOpenAttempt(db, runId, body.attempt, worker);
    const patch = {
      error: body.error ?? undefined,
      stopReason: body.stopReason ?? undefined,
      finishedAt: isFinal(body.to) ? now : undefined,
    };
    const moved = transitionRun(db, runId, body.from, body.to, patch, body.reason);
    const row = getAttemptRow(db, runId, body.attempt);
    if (run.status === 'running' && row && row.finishedAt === null)
      finishAttempt(db, runId, body.attempt, { outcome: body.to, error: body.error ?? null });
    return moved;
  });
}

/** Carries "about the run itself" from the worker to the retry policy (as a DomainError, it fails the run at once). */
export class PermanentWorkerError extends Error {
  readonly permanent = true;
}

/**
 * An error of the worker itself while it handled the run (never the trainer's): an open attempt is closed and the
 * retry policy decides (see retry-decisions.ts). A report from a worker whose attempt is not the current one is stale.
 */
export function workerErrorReport(
  db: Db,
  config: Config,
  worker: string,
  runId: string,
  body: WorkerErrorBody,
): Run | null {
  return withTransaction(db, () => {
    const run = getRun(db, runId);
    if (!run) return null;
    if (body.attempt !== null) {
      const row = getAttemptRow(db, runId, body.attempt);
      // Already recorded (a retried call), or the attempt is over for another reason: nothing to change.
      if (row?.worker === worker && row.finishedAt !== null) return run;
      requireOpenAttempt(db, runId, body.attempt, worker);
      forgetEarlyStop(db, runId);
    } else if (run.status === 'running') return run; // before its attempt started; the run is someone else's now
    const error = body.permanent ? new PermanentWorkerError(body.message) : new Error(body.message);
    return recordWorkerError(db, config, runId, error, worker).run;
  });
}

/** A problem the worker met on the run that does not stop it; recorded as a run event. */
export function runEventReport(db: Db, worker: string, runId: string, body: RunEventBody): void {
  requireRun(db, runId);
  if (body.attempt !== null && getAttemptRow(db, runId, body.attempt)?.worker !== worker)
    throw new StaleAttemptError(`attempt ${body.attempt} of run ${runId} is not ${worker}'s`);
  recordRunEvent(db, runId, body.message);
}

/** Whether the worker training `attempt` must stop: a cancel, the sweep's median rule, or another attempt took over. */
export function controlAnswer(db: Db, runId: string, attempt: number): ControlAnswer {
  const run = requireRun(db, runId);
  const current = run.attempt === attempt && run.status === 'running';
  const early = current ? earlyStopOf(db, runId, attempt) : null;
  const stop = !current
    ? { stopReason: 'superseded' as const, reason: `the run is ${run.status} at attempt ${run.attempt}` }
    : run.cancelRequestedAt !== null
      ? { stopReason: 'cancelled' as const, reason: 'cancelled by request' }
      : early;
  return { status: run.status, attempt: run.attempt, cancel: stop !== null, stop };
}
