// Applies the retry policy (src/domain/retry-policy.ts) to a run in SQLite: every decision is a status change or an
// event carrying its reason and delay, written in one transaction with the backoff's end (notBefore).
import type { Db } from '../db/client.js';
import {
  closeOpenAttempt,
  getRun,
  recordRunEvent,
  setRetryState,
  transitionRun,
} from '../db/runs-repository.js';
import { withTransaction } from '../db/transaction.js';
import { DomainError } from '../domain/errors.js';
import { decideRetry, type RetryDecision, type RetrySettings } from '../domain/retry-policy.js';
import type { Run } from '../domain/run.js';
import { isFinal } from '../domain/run-status.js';
import type { Config } from '../shared/config.js';
import { errorText } from '../shared/error-text.js';

export function retrySettings(config: Config): RetrySettings {
  return {
    maxAttempts: config.maxAttempts,
    baseDelayMs: config.retryBaseDelayMs,
    maxDelayMs: config.retryMaxDelayMs,
    resumeDelayMs: config.resumeDelayMs,
  };
}

export { errorText };

/**
 * A worker-side error (SQLite, disk, run folder) while handling a run: never the run's fault. A running run is
 * interrupted (its open attempt closed); then it is retried after a backoff, or failed once the policy's limit is
 * reached (never on the first error). A DomainError is about the run itself and fails it at once. Returns the
 * decision and the run as it is afterwards (null when it is gone).
 */
export function recordWorkerError(
  db: Db,
  config: Config,
  runId: string,
  error: unknown,
  worker = config.workerName,
  random = Math.random(),
): { decision: RetryDecision; run: Run | null } {
  return withTransaction(db, () => {
    const run = getRun(db, runId);
    if (!run) return { decision: { action: 'final', reason: 'the run no longer exists' }, run: null };
    if (isFinal(run.status))
      return { decision: { action: 'final', reason: `the run is already ${run.status}` }, run };
    const now = Date.now();
    const strike = run.workerErrors + 1;
    // A domain error (the uploaded dataset the run names is gone) is about the run, and the same next time.
    const permanent = error instanceof DomainError || (error as { permanent?: unknown }).permanent === true;
    const detail = permanent
      ? `The worker could not process the run: ${errorText(error)}`
      : `worker error on ${worker}: ${errorText(error)}`;
    const decision = decideRetry(
      permanent ? 'permanent' : 'worker_error',
      strike,
      retrySettings(config),
      detail,
      random,
    );
    if (run.status === 'running')
      closeOpenAttempt(db, runId, run.attempt, {
        outcome: decision.action === 'fail' ? 'failed' : 'interrupted',
        error: detail,
      });
    if (decision.action === 'fail') {
      const failed = transitionRun(
        db,
        runId,
        run.status,
        'failed',
        { error: detail, stopReason: 'worker_error', workerErrors: strike, finishedAt: now },
        decision.reason,
      );
      return { decision, run: failed };
    }
    const delayMs = decision.action === 'retry' || decision.action === 'resume' ? decision.delayMs : 0;
    const retry = { notBefore: now + delayMs, workerErrors: strike };
    if (run.status === 'running') {
      const after = transitionRun(
        db,
        runId,
        'running',
        'interrupted',
        { ...retry, stopReason: 'worker_error' },
        { reason: decision.reason, delayMs },
      );
      return { decision, run: after };
    }
    setRetryState(db, runId, retry);
    recordRunEvent(db, runId, decision.reason, delayMs, now);
    return { decision, run: getRun(db, runId)! };
  });
}
