import { describe, expect, it } from 'vitest';

import {
  backoffMs,
  decideRetry,
  type FailureClass,
  type OomContext,
  type RetryDecision,
  type RetrySettings,
} from '../../src/domain/retry-policy.js';

const settings: RetrySettings = {
  maxAttempts: 3,
  baseDelayMs: 10_000,
  maxDelayMs: 60_000,
  resumeDelayMs: 1_000,
};

describe('decideRetry', () => {
  const table: {
    failure: FailureClass;
    strike: number;
    random: number;
    s?: Partial<RetrySettings>;
    expected: Partial<RetryDecision>;
  }[] = [
    // Trainer exit 2 (argparse), watchdogs, no adapter: never retried, whatever the count.
    { failure: 'permanent', strike: 1, random: 0.5, expected: { action: 'fail' } },
    { failure: 'permanent', strike: 1, random: 0.5, s: { maxAttempts: 20 }, expected: { action: 'fail' } },
    // Other exit codes and signals: retried with exponential backoff (equal jitter) up to MAX_ATTEMPTS.
    { failure: 'trainer_failure', strike: 1, random: 0, expected: { action: 'retry', delayMs: 5_000 } },
    {
      failure: 'trainer_failure',
      strike: 1,
      random: 0.999_999,
      expected: { action: 'retry', delayMs: 10_000 },
    },
    { failure: 'trainer_failure', strike: 2, random: 0.5, expected: { action: 'retry', delayMs: 15_000 } },
    { failure: 'trainer_failure', strike: 3, random: 0.5, expected: { action: 'fail' } },
    {
      failure: 'trainer_failure',
      strike: 1,
      random: 0.5,
      s: { maxAttempts: 1 },
      expected: { action: 'fail' },
    },
    // The cap holds however many strikes there were.
    {
      failure: 'trainer_failure',
      strike: 9,
      random: 1,
      s: { maxAttempts: 20 },
      expected: { action: 'retry', delayMs: 60_000 },
    },
    {
      failure: 'trainer_failure',
      strike: 9,
      random: 0,
      s: { maxAttempts: 20 },
      expected: { action: 'retry', delayMs: 30_000 },
    },
    // Shutdown or crash: resume from the checkpoint after the resume delay, never counted against the run.
    { failure: 'interrupted', strike: 1, random: 0.5, expected: { action: 'resume', delayMs: 1_000 } },
    {
      failure: 'interrupted',
      strike: 500,
      random: 0.5,
      s: { maxAttempts: 1 },
      expected: { action: 'resume', delayMs: 1_000 },
    },
    // Worker errors: retried with backoff, and never failed on the first one even with MAX_ATTEMPTS=1.
    {
      failure: 'worker_error',
      strike: 1,
      random: 0.5,
      s: { maxAttempts: 1 },
      expected: { action: 'retry', delayMs: 7_500 },
    },
    { failure: 'worker_error', strike: 2, random: 0.5, s: { maxAttempts: 1 }, expected: { action: 'fail' } },
    { failure: 'worker_error', strike: 2, random: 0.5, expected: { action: 'retry', delayMs: 15_000 } },
    { failure: 'worker_error', strike: 3, random: 0.5, expected: { action: 'fail' } },
    // Cancel and early stop are final.
    { failure: 'stopped', strike: 1, random: 0.5, expected: { action: 'final' } },
    // A zero base delay retries at once.
    {
      failure: 'trainer_failure',
      strike: 2,
      random: 0.5,
      s: { baseDelayMs: 0 },
      expected: { action: 'retry', delayMs: 0 },
    },
  ];
  it.each(table)(
    '$failure, strike $strike, random $random, $s -> $expected',
    ({ failure, strike, random, s, expected }) => {
      const d = decideRetry(failure, strike, { ...settings, ...s }, 'what happened', random);
      expect(d).toMatchObject(expected);
      expect(d.reason.startsWith('what happened')).toBe(true);
    },
  );

  it('says in its reason how many strikes of how many and when the retry comes', () => {
    expect(decideRetry('trainer_failure', 1, settings, 'attempt 1 failed (exit_code)', 0.5).reason).toBe(
      'attempt 1 failed (exit_code); 1 of 3: retrying in 7.5 s',
    );
    expect(decideRetry('trainer_failure', 3, settings, 'attempt 3 failed (signal)', 0.5).reason).toBe(
      'attempt 3 failed (signal); 3 of 3 (MAX_ATTEMPTS): not retried',
    );
    expect(
      decideRetry('worker_error', 1, settings, 'worker error on w1: SQLITE_BUSY: database is locked', 0.5)
        .reason,
    ).toMatch(/SQLITE_BUSY.*1 of 3: retrying in 7\.5 s$/);
    expect(decideRetry('interrupted', 1, settings, 'worker shut down').reason).toBe(
      'worker shut down; resumes from its newest checkpoint in 1.0 s',
    );
  });
});

describe('decideRetry: out of memory', () => {
  const table: {
    oom: OomContext;
    strike: number;
    s?: Partial<RetrySettings>;
    expected: Partial<RetryDecision>;
    says: RegExp;
  }[] = [
    // Permanent at the same settings, whatever MAX_ATTEMPTS allows for other failures.
    {
      oom: { onOom: undefined, reductionsTried: 0 },
      strike: 1,
      expected: { action: 'fail' },
      says: /not retried: it would run out of memory again at the same settings/,
    },
    {
      oom: { onOom: 'fail', reductionsTried: 0 },
      strike: 1,
      s: { maxAttempts: 20 },
      expected: { action: 'fail' },
      says: /on_oom: "reduce" retries with smaller ones/,
    },
    // on_oom "reduce": retried at once (no backoff: the next attempt is smaller), at most 3 times.
    {
      oom: { onOom: 'reduce', reductionsTried: 0 },
      strike: 1,
      expected: { action: 'retry', delayMs: 0 },
      says: /retry 1 of 3 with smaller settings$/,
    },
    {
      oom: { onOom: 'reduce', reductionsTried: 2 },
      strike: 3,
      s: { maxAttempts: 1 },
      expected: { action: 'retry', delayMs: 0 },
      says: /retry 3 of 3/,
    },
    {
      oom: { onOom: 'reduce', reductionsTried: 3 },
      strike: 4,
      s: { maxAttempts: 20 },
      expected: { action: 'fail' },
      says: /3 of 3 smaller retries \(on_oom reduce\) used: not retried$/,
    },
  ];
  it.each(table)('$oom, strike $strike, $s -> $expected', ({ oom, strike, s, expected, says }) => {
    const d = decideRetry('out_of_memory', strike, { ...settings, ...s }, 'out of memory', 0.5, oom);
    expect(d).toMatchObject(expected);
    expect(d.reason).toMatch(/^out of memory; /);
    expect(d.reason).toMatch(says);
  });
});

describe('backoffMs', () => {
  it.each([
    [1, 0, 5_000],
    [1, 1, 10_000],
    [2, 0, 10_000],
    [3, 0.5, 30_000],
    [4, 0, 30_000],
    [4, 1, 60_000],
    [30, 0.5, 45_000],
  ])('strike %i with random %d waits %i ms', (strike, random, ms) => {
    expect(backoffMs(strike, settings, random)).toBe(ms);
  });

  it('stays within [exp/2, exp] for any random draw', () => {
    for (let i = 0; i < 200; i++) {
      const d = backoffMs(2, settings, Math.random());
      expect(d).toBeGreaterThanOrEqual(10_000);
      expect(d).toBeLessThanOrEqual(20_000);
    }
  });
});
