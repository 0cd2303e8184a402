// A sweep base and metric for the sweep-spec tests, and the issues a refused spec names.
import { expect } from 'vitest';

import { RequestValidationError } from '../../src/domain/errors.js';
import { expandSweep, parseSweepSpec } from '../../src/domain/sweep-spec.js';

export const base = { method: 'grpo', model: 'm/x', data: './test_data/grpo', iters: 10 };
export const metric = { name: 'loss', goal: 'min' };

export function issuesOf(body: unknown) {
  try {
    expandSweep(parseSweepSpec(body));
  } catch (e) {
    expect(e).toBeInstanceOf(RequestValidationError);
    return (e as RequestValidationError).issues;
  }
  throw new Error('expected a validation error');
}
