// Decides how an attempt ended from the exit, the stop reason and the files on disk: pure.
import { ADAPTER_FILE } from '../domain/checkpoint-names.js';
import type { ExecuteResult } from './execute.js';
import type { SinkSummary } from './run-output-types.js';

export type Outcome =
  | { status: 'succeeded' }
  | { status: 'cancelled'; reason: string; stopReason: 'cancelled' | 'early_stopped' }
  | { status: 'interrupted'; reason: string }
  | {
      status: 'failed';
      reason: string;
      error: string;
      permanent: boolean;
      retryable: boolean;
      outOfMemory?: string;
    };

/** `earlyStopReason` is the median rule's own words (metric, value, median, iteration) when it stopped the trainer. */
export function decideOutcome(
  result: ExecuteResult,
  summary: SinkSummary,
  adapterFileExists: boolean,
  earlyStopReason?: string,
): Outcome {
  const tail = summary.lastLines.slice(-20).join('\n');
  const withTail = (msg: string) => (tail ? `${msg}\n--- last lines ---\n${tail}` : msg);
  switch (result.stopReason) {
    case 'cancelled':
      return { status: 'cancelled', reason: 'cancelled by request', stopReason: 'cancelled' };
    case 'early_stopped':
      // Final like a cancel (never retried); checkpoints and logs stay.
      return {
        status: 'cancelled',
        reason: earlyStopReason ?? "early stopped by the sweep's median stopping rule",
        stopReason: 'early_stopped',
      };
    case 'shutdown':
      return {
        status: 'interrupted',
        reason: 'worker shut down; the run resumes from its newest checkpoint',
      };
    case 'time_limit':
      return {
        status: 'failed',
        reason: 'time_limit',
        error: withTail('Stopped: the run exceeded its time limit (RUN_TIME_LIMIT_S)'),
        permanent: true,
        retryable: false,
      };
    case 'idle_limit':
      return {
        status: 'failed',
        reason: 'idle_limit',
        error: withTail(
          'Stopped: the trainer printed nothing for too long (RUN_IDLE_LIMIT_S); upstream hangs forever e.g. when a split has fewer rows than batch_size',
        ),
        permanent: true,
        retryable: false,
      };
    case null:
      break;
  }
  if (result.spawnError) {
    return {
      status: 'failed',
      reason: 'spawn_error',
      error: `Could not start the trainer: ${result.spawnError}`,
      permanent: true,
      retryable: false,
    };
  }
  if (summary.outOfMemory !== null && result.exitCode !== 0) {
    // Permanent at the same settings (facts §7); on_oom "reduce" retries with smaller ones (see oom-retry.ts).
    return {
      status: 'failed',
      reason: 'out_of_memory',
      error: withTail(`Out of memory: ${summary.outOfMemory}${result.signal ? ` (${result.signal})` : ''}`),
      permanent: true,
      retryable: false,
      outOfMemory: summary.outOfMemory,
    };
  }
  if (result.exitCode === 0) {
    if (adapterFileExists) return { status: 'succeeded' };
    const upstream = summary.errors.length ? ` Upstream printed: ${summary.errors.join(' | ')}` : '';
    return {
      status: 'failed',
      reason: 'no_adapter',
      error: withTail(
        `The trainer exited 0 but wrote no ${ADAPTER_FILE}, so nothing was trained.${upstream}`,
      ),
      permanent: true,
      retryable: false,
    };
  }
  if (result.signal) {
    return {
      status: 'failed',
      reason: 'signal',
      error: withTail(`The trainer was killed by ${result.signal} (out of memory?)`),
      permanent: false,
      retryable: true,
    };
  }
  if (result.exitCode === 2) {
    return {
      status: 'failed',
      reason: 'usage_error',
      error: withTail('The trainer rejected its arguments (exit 2)'),
      permanent: true,
      retryable: false,
    };
  }
  return {
    status: 'failed',
    reason: 'exit_code',
    error: withTail(`The trainer exited with code ${result.exitCode}`),
    permanent: false,
    retryable: true,
  };
}
