// The one retry policy: from a failure's class, how many times that class has struck, and the settings, decide
// whether a run fails now, is retried after a backoff, resumes from its checkpoint, or has reached its final status.
import { MAX_OOM_REDUCTIONS } from './memory-advice.js';
import { assertNever } from './run-status.js';

/**
 * - permanent: the trainer rejected its arguments (exit 2), a watchdog stopped it, it wrote no adapter, it could
 *   not be spawned: the same command would fail the same way.
 * - trainer_failure: any other exit code, or killed by a signal: worth another attempt.
 * - out_of_memory: the trainer's Metal OOM text (and SIGABRT): permanent at the same settings; with on_oom "reduce",
 *   retried at once with smaller settings, at most MAX_OOM_REDUCTIONS times.
 * - interrupted: the worker shut down or crashed mid-run; the run did nothing wrong.
 * - worker_error: the worker itself failed (SQLITE_BUSY, ENOSPC, EIO on the run folder): never the run's fault.
 * - stopped: cancelled or early stopped; final by definition.
 */
export type FailureClass =
  'permanent' | 'trainer_failure' | 'out_of_memory' | 'interrupted' | 'worker_error' | 'stopped';

/** What an out-of-memory decision reads from the run: its on_oom choice and the reductions already tried. */
export interface OomContext {
  onOom: 'fail' | 'reduce' | undefined;
  reductionsTried: number;
}

export interface RetrySettings {
  /** Attempts a run gets for trainer failures in all (MAX_ATTEMPTS). Worker errors get at least 2. */
  maxAttempts: number;
  /** The first backoff; each further one doubles, up to maxDelayMs (RETRY_BASE_DELAY_S, RETRY_MAX_DELAY_S). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** An interrupted run is queued again after this (lets a worker that is shutting down exit first). */
  resumeDelayMs: number;
}

export type RetryDecision =
  | { action: 'fail'; reason: string }
  | { action: 'retry'; delayMs: number; reason: string }
  | { action: 'resume'; delayMs: number; reason: string }
  | { action: 'final'; reason: string };

/** Worker errors are never the run's fault: a run is not failed on the first one, whatever MAX_ATTEMPTS says. */
export const MIN_WORKER_ERROR_ATTEMPTS = 2;

/**
 * Exponential backoff with equal jitter, capped: strike 1 waits base/2..base, strike 2 base..2·base, and so on,
 * never more than maxDelayMs. `random` is in [0, 1) (Math.random in production, fixed in tests).
 */
export function backoffMs(
  strike: number,
  s: Pick<RetrySettings, 'baseDelayMs' | 'maxDelayMs'>,
  random: number,
): number {
  const exp = Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** Math.max(0, strike - 1));
  const r = Math.min(Math.max(random, 0), 1);
  return Math.round(exp / 2 + (exp / 2) * r);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/**
 * `strike` counts failures of this class for the run, this one included (1 for the first). `detail` is what
 * happened, in words; it starts the decision's reason, which the run's history shows.
 */
export function decideRetry(
  failure: FailureClass,
  strike: number,
  s: RetrySettings,
  detail: string,
  random = Math.random(),
  oom: OomContext = { onOom: undefined, reductionsTried: 0 },
): RetryDecision {
  switch (failure) {
    case 'out_of_memory':
      if (oom.onOom !== 'reduce')
        return {
          action: 'fail',
          reason: `${detail}; not retried: it would run out of memory again at the same settings (on_oom: "reduce" retries with smaller ones)`,
        };
      if (oom.reductionsTried >= MAX_OOM_REDUCTIONS)
        return {
          action: 'fail',
          reason: `${detail}; ${oom.reductionsTried} of ${MAX_OOM_REDUCTIONS} smaller retries (on_oom reduce) used: not retried`,
        };
      return {
        action: 'retry',
        delayMs: 0,
        reason: `${detail}; on_oom reduce: retry ${oom.reductionsTried + 1} of ${MAX_OOM_REDUCTIONS} with smaller settings`,
      };
    case 'stopped':
      return { action: 'final', reason: detail };
    case 'permanent':
      return { action: 'fail', reason: `${detail}; not retried: the same command would fail the same way` };
    case 'interrupted':
      return {
        action: 'resume',
        delayMs: s.resumeDelayMs,
        reason: `${detail}; resumes from its newest checkpoint in ${seconds(s.resumeDelayMs)}`,
      };
    case 'trainer_failure':
      return limited(detail, strike, s.maxAttempts, s, random, 'MAX_ATTEMPTS');
    case 'worker_error':
      return limited(
        detail,
        strike,
        Math.max(MIN_WORKER_ERROR_ATTEMPTS, s.maxAttempts),
        s,
        random,
        'worker errors allowed',
      );
    default:
      return assertNever(failure, 'failure class');
  }
}

function limited(
  detail: string,
  strike: number,
  limit: number,
  s: RetrySettings,
  random: number,
  what: string,
): RetryDecision {
  if (strike >= limit)
    return { action: 'fail', reason: `${detail}; ${strike} of ${limit} (${what}): not retried` };
  const delayMs = backoffMs(strike, s, random);
  return {
    action: 'retry',
    delayMs,
    reason: `${detail}; ${strike} of ${limit}: retrying in ${seconds(delayMs)}`,
  };
}
