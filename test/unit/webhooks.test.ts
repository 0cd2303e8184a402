import { describe, expect, it } from 'vitest';

import {
  afterAttempt,
  classifyAttempt,
  DELIVERY_WINDOW_MS,
  MAX_DELIVERY_ATTEMPTS,
} from '../../src/domain/webhooks.js';

const fail = { statusCode: 500, error: 'HTTP 500' };

describe('webhook delivery retries', () => {
  it('2xx is delivered, a 4xx refusal (not 408/429) is final, everything else is retried', () => {
    expect(classifyAttempt({ statusCode: 204, error: null })).toBe('delivered');
    expect(classifyAttempt({ statusCode: 410, error: 'gone' })).toBe('refused');
    expect(classifyAttempt({ statusCode: 429, error: null })).toBe('retry');
    expect(classifyAttempt({ statusCode: 408, error: null })).toBe('retry');
    expect(classifyAttempt({ statusCode: null, error: 'ECONNREFUSED' })).toBe('retry');
  });

  it('waits base·2^(n-1) times a jitter between 0.5 and 1, capped at 6 hours', () => {
    const at = (n: number, r: number) => afterAttempt(fail, n, 0, 0, 30_000, r).nextAttemptAt;
    expect(at(1, 0)).toBe(15_000);
    expect(at(1, 1)).toBe(30_000);
    expect(at(3, 1)).toBe(120_000);
    expect(afterAttempt(fail, 9, 0, 0, 3_600_000, 1).nextAttemptAt).toBe(6 * 3600 * 1000);
  });

  it(`gives up after ${MAX_DELIVERY_ATTEMPTS} attempts or 24 hours`, () => {
    expect(afterAttempt(fail, MAX_DELIVERY_ATTEMPTS, 0, 0, 1000, 0.5)).toMatchObject({
      status: 'failed',
      nextAttemptAt: null,
    });
    expect(afterAttempt(fail, 3, 0, DELIVERY_WINDOW_MS - 1000, 30_000, 0.5)).toMatchObject({
      status: 'failed',
      why: 'given up: 24 hours have passed',
    });
    expect(afterAttempt(fail, 3, 0, 1000, 30_000, 0.5)).toMatchObject({ status: 'pending' });
  });
});
