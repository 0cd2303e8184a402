// The run status state machine: every (from, to) pair of the transition table, finality and the guards.
import { describe, expect, it } from 'vitest';

import { DomainError } from '../../src/domain/errors.js';
import {
  ACTIVE_STATUSES,
  assertNever,
  assertTransition,
  canTransition,
  FINAL_STATUSES,
  InvalidTransitionError,
  isActive,
  isFinal,
  isRunStatus,
  RUN_STATUSES,
  RUN_TRANSITIONS,
} from '../../src/domain/run-status.js';

const pairs = RUN_STATUSES.flatMap((from) =>
  RUN_STATUSES.map((to) => ({ from, to, ok: RUN_TRANSITIONS[from].includes(to) })),
);

describe('run status transitions', () => {
  it('lists the six statuses', () => {
    expect([...RUN_STATUSES]).toEqual([
      'queued',
      'running',
      'succeeded',
      'failed',
      'cancelled',
      'interrupted',
    ]);
  });

  it.each(pairs)('$from -> $to allowed: $ok', ({ from, to, ok }) => {
    expect(canTransition(from, to)).toBe(ok);
    if (ok) {
      expect(() => assertTransition(from, to)).not.toThrow();
    } else {
      expect(() => assertTransition(from, to)).toThrow(InvalidTransitionError);
    }
  });

  it('allows exactly eleven transitions in all', () => {
    expect(pairs.filter((p) => p.ok)).toHaveLength(11);
  });

  it('queues, resumes, cancels or fails an interrupted run, and never sends a running run back to queued', () => {
    for (const to of ['queued', 'running', 'cancelled', 'failed'] as const)
      expect(canTransition('interrupted', to)).toBe(true);
    expect(canTransition('running', 'queued')).toBe(false);
    expect(canTransition('queued', 'succeeded')).toBe(false);
  });

  it('never allows a status to move to itself', () => {
    for (const s of RUN_STATUSES) expect(canTransition(s, s)).toBe(false);
  });

  it('throws an invalid_transition DomainError naming both statuses', () => {
    let caught: unknown;
    try {
      assertTransition('succeeded', 'running');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidTransitionError);
    expect(caught).toBeInstanceOf(DomainError);
    const err = caught as InvalidTransitionError;
    expect(err.code).toBe('invalid_transition');
    expect(err.name).toBe('InvalidTransitionError');
    expect(err.from).toBe('succeeded');
    expect(err.to).toBe('running');
    expect(err.message).toContain('succeeded');
    expect(err.message).toContain('running');
  });
});

describe('final and active statuses', () => {
  it('treats succeeded, failed and cancelled as final and nothing else', () => {
    expect(RUN_STATUSES.filter(isFinal)).toEqual(['succeeded', 'failed', 'cancelled']);
    expect([...FINAL_STATUSES].sort()).toEqual(['cancelled', 'failed', 'succeeded']);
  });

  it('gives final statuses no way out and every other status at least one', () => {
    for (const s of RUN_STATUSES) {
      const exits = RUN_STATUSES.filter((to) => canTransition(s, to));
      expect(exits.length === 0).toBe(isFinal(s));
    }
  });

  it('calls queued, running and interrupted active', () => {
    expect([...ACTIVE_STATUSES]).toEqual(['queued', 'running', 'interrupted']);
    expect(RUN_STATUSES.filter(isActive)).toEqual(['queued', 'running', 'interrupted']);
  });

  it('recognises status strings', () => {
    expect(isRunStatus('running')).toBe(true);
    expect(isRunStatus('done')).toBe(false);
    expect(isRunStatus(3)).toBe(false);
  });

  it('assertNever throws when an impossible value reaches it at run time', () => {
    expect(() => assertNever('bogus' as never, 'status')).toThrow('Unexpected status: bogus');
  });
});
