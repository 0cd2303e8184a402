// Pure: webhook events, what each notification says, and when a failed delivery is tried again.
import type { Run } from './run.js';
import type { FinalRunStatus } from './run-status.js';

export const WEBHOOK_EVENTS = [
  'run.succeeded',
  'run.failed',
  'run.cancelled',
  'sweep.done',
  'job.succeeded',
  'job.failed',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A delivery is given up after this many attempts, or once it is this old, whichever comes first. */
export const MAX_DELIVERY_ATTEMPTS = 10;
export const DELIVERY_WINDOW_MS = 24 * 60 * 60 * 1000;
/** No wait between attempts is longer than this. */
export const MAX_DELIVERY_DELAY_MS = 6 * 60 * 60 * 1000;

export function runEvent(status: FinalRunStatus): WebhookEvent {
  return `run.${status}`;
}

/** One attempt as the deliveries list shows it. */
export interface DeliveryAttempt {
  at: number;
  statusCode: number | null;
  error: string | null;
  ms: number;
}

export interface AttemptResult {
  /** The HTTP status, null when there was none (refused, timed out, DNS). */
  statusCode: number | null;
  error: string | null;
}

/**
 * 2xx is delivered. A 4xx other than 408 and 429 means the receiver refuses this body, so sending it again cannot
 * help. Anything else (5xx, timeout, refused connection) is tried again.
 */
export function classifyAttempt(r: AttemptResult): 'delivered' | 'refused' | 'retry' {
  if (r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300) return 'delivered';
  if (
    r.statusCode !== null &&
    r.statusCode >= 400 &&
    r.statusCode < 500 &&
    r.statusCode !== 408 &&
    r.statusCode !== 429
  )
    return 'refused';
  return 'retry';
}

/**
 * After attempt `attempts` (1 for the first) of a delivery created at `createdAt`: delivered, failed for good, or
 * pending again at `nextAttemptAt`, after an exponential backoff with jitter (base·2^(n-1), capped, times 0.5–1).
 */
export function afterAttempt(
  r: AttemptResult,
  attempts: number,
  createdAt: number,
  now: number,
  baseDelayMs: number,
  random: number,
): { status: DeliveryStatus; nextAttemptAt: number | null; why: string } {
  const kind = classifyAttempt(r);
  if (kind === 'delivered')
    return { status: 'delivered', nextAttemptAt: null, why: `delivered (${r.statusCode})` };
  if (kind === 'refused')
    return {
      status: 'failed',
      nextAttemptAt: null,
      why: `the receiver refused it (${r.statusCode}); not retried`,
    };
  const exp = Math.min(MAX_DELIVERY_DELAY_MS, baseDelayMs * 2 ** Math.max(0, attempts - 1));
  const next = now + Math.round(exp * (0.5 + 0.5 * Math.min(Math.max(random, 0), 1)));
  if (attempts >= MAX_DELIVERY_ATTEMPTS)
    return { status: 'failed', nextAttemptAt: null, why: `given up after ${attempts} attempts` };
  if (next - createdAt > DELIVERY_WINDOW_MS)
    return { status: 'failed', nextAttemptAt: null, why: 'given up: 24 hours have passed' };
  return {
    status: 'pending',
    nextAttemptAt: next,
    why: `attempt ${attempts} failed; next in ${Math.round((next - now) / 1000)} s`,
  };
}

/** What a run notification says about the run: enough to act on without another request. */
export function runNotice(run: Run) {
  return {
    id: run.id,
    name: run.name,
    method: run.method,
    model: run.model,
    status: run.status,
    stopReason: run.stopReason,
    error: run.error?.split('\n', 1)[0] ?? null,
    attempts: run.attempt,
    iteration: run.progressIteration,
    totalIterations: run.progressTotal,
    latestLoss: run.latestLoss,
    latestValLoss: run.latestValLoss,
    adapterFile: run.adapterFile,
    peakMemoryGb: run.peakMemoryGb,
    sweepId: run.sweepId,
    createdAt: iso(run.createdAt),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    durationMs: run.durationMs,
  };
}

const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : null);

/** The one-line text of a desktop notification. */
export function noticeTitle(event: WebhookEvent, subject: { name?: string | null; id: string }): string {
  const label = subject.name ?? subject.id;
  switch (event) {
    case 'run.succeeded':
      return `Run succeeded: ${label}`;
    case 'run.failed':
      return `Run failed: ${label}`;
    case 'run.cancelled':
      return `Run cancelled: ${label}`;
    case 'sweep.done':
      return `Sweep done: ${label}`;
    case 'job.succeeded':
      return `Job succeeded: ${label}`;
    case 'job.failed':
      return `Job failed: ${label}`;
  }
}
