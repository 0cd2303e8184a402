// The run status state machine: the status union, the allowed transitions, and the guards every status write uses.
import { InvalidTransitionError } from './errors.js';

export { InvalidTransitionError } from './errors.js';

export const RUN_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * Allowed transitions, by source status. `interrupted` is a run whose worker stopped mid-training (shutdown or
 * crash): it may be queued again, resumed directly, cancelled, or given up on.
 */
export const RUN_TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = Object.freeze({
  queued: ['running', 'cancelled', 'failed'],
  running: ['succeeded', 'failed', 'cancelled', 'interrupted'],
  interrupted: ['queued', 'running', 'cancelled', 'failed'],
  succeeded: [],
  failed: [],
  cancelled: [],
});

/** Statuses a run can still leave: it holds a queue slot or a worker, or may get one again. */
export const ACTIVE_STATUSES = ['queued', 'running', 'interrupted'] as const satisfies readonly RunStatus[];
export type ActiveRunStatus = (typeof ACTIVE_STATUSES)[number];

export const FINAL_STATUSES = ['succeeded', 'failed', 'cancelled'] as const satisfies readonly RunStatus[];
export type FinalRunStatus = (typeof FINAL_STATUSES)[number];

export function isRunStatus(value: unknown): value is RunStatus {
  return typeof value === 'string' && (RUN_STATUSES as readonly string[]).includes(value);
}

export function canTransition(from: RunStatus, to: RunStatus): boolean {
  return RUN_TRANSITIONS[from].includes(to);
}

export function assertTransition(from: RunStatus, to: RunStatus): void {
  if (!canTransition(from, to)) throw new InvalidTransitionError<RunStatus>(from, to);
}

/** A final run never changes status again, so its job may be dropped and retries return at once. */
export function isFinal(status: RunStatus): status is FinalRunStatus {
  switch (status) {
    case 'succeeded':
    case 'failed':
    case 'cancelled':
      return true;
    case 'queued':
    case 'running':
    case 'interrupted':
      return false;
    default:
      return assertNever(status);
  }
}

export function isActive(status: RunStatus): status is ActiveRunStatus {
  return !isFinal(status);
}

/** Ends an exhaustive switch: compile error when a case is missing, throws if reached at run time. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unexpected ${what}: ${String(value)}`);
}
