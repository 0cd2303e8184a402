import { describe, expect, it } from 'vitest';

import { RequestValidationError } from '../../src/domain/errors.js';
import {
  decideMedianStop,
  describeMedianStop,
  type EarlyStopping,
  median,
  type MetricPointAt,
  valueAtOrBefore,
} from '../../src/domain/median-stopping.js';
import { parseSweepSpec } from '../../src/domain/sweep-spec.js';

const rule: EarlyStopping = { rule: 'median', min_completed_runs: 2 };
const series = (...pairs: [number, number | null][]): MetricPointAt[] =>
  pairs.map(([iteration, value]) => ({ iteration, value }));
// Two completed runs reporting val loss every 5 iterations.
const a = series([1, 2.5], [5, 1.0], [10, 0.6]);
const b = series([1, 2.4], [5, 1.4], [10, 0.8]);
const c = series([1, 2.6], [5, 1.2], [10, 0.7]);

describe('valueAtOrBefore', () => {
  it('takes the value at the iteration, else the nearest earlier one, else nothing', () => {
    expect(valueAtOrBefore(a, 5)).toBe(1.0);
    expect(valueAtOrBefore(a, 7)).toBe(1.0);
    expect(valueAtOrBefore(a, 100)).toBe(0.6);
    expect(valueAtOrBefore(series([5, 1], [1, 2]), 4)).toBe(2);
    expect(valueAtOrBefore(a, 0)).toBeUndefined();
    expect(valueAtOrBefore(series([3, null]), 3)).toBeNull();
  });
});

describe('median', () => {
  it('is the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow();
  });
});

describe('decideMedianStop', () => {
  it('stops a run worse than the median of the completed runs at the same iteration (goal min)', () => {
    expect(decideMedianStop({ rule, goal: 'min', iteration: 5, value: 1.3, completed: [a, b, c] })).toEqual({
      stop: true,
      iteration: 5,
      value: 1.3,
      median: 1.2,
      compared: 3,
    });
  });

  it('lets a run at or better than the median go on', () => {
    expect(decideMedianStop({ rule, goal: 'min', iteration: 5, value: 1.2, completed: [a, b, c] })).toEqual({
      stop: false,
      why: 'not_worse',
    });
    expect(decideMedianStop({ rule, goal: 'min', iteration: 5, value: 0.9, completed: [a, b, c] })).toEqual({
      stop: false,
      why: 'not_worse',
    });
  });

  it('turns the comparison round for goal max', () => {
    const rewards = [series([5, 0.5]), series([5, 0.7])];
    expect(decideMedianStop({ rule, goal: 'max', iteration: 5, value: 0.55, completed: rewards }).stop).toBe(
      true,
    );
    expect(decideMedianStop({ rule, goal: 'max', iteration: 5, value: 0.65, completed: rewards }).stop).toBe(
      false,
    );
  });

  it('compares with what the others reported by then when they did not report at that iteration', () => {
    // At iteration 8 the others stand at their iteration-5 values (median 1.2).
    expect(decideMedianStop({ rule, goal: 'min', iteration: 8, value: 1.1, completed: [a, b, c] }).stop).toBe(
      false,
    );
    expect(
      decideMedianStop({ rule, goal: 'min', iteration: 8, value: 1.25, completed: [a, b, c] }),
    ).toMatchObject({ stop: true, median: 1.2 });
  });

  it('never judges before min_iterations; by default the pre-training report at iteration 1 is skipped', () => {
    expect(decideMedianStop({ rule, goal: 'min', iteration: 1, value: 9, completed: [a, b] })).toEqual({
      stop: false,
      why: 'too_early',
    });
    const late = { ...rule, min_iterations: 10 };
    expect(decideMedianStop({ rule: late, goal: 'min', iteration: 5, value: 9, completed: [a, b] })).toEqual({
      stop: false,
      why: 'too_early',
    });
    expect(
      decideMedianStop({ rule: late, goal: 'min', iteration: 10, value: 9, completed: [a, b] }).stop,
    ).toBe(true);
    const fromFirst = { ...rule, min_iterations: 1 };
    expect(
      decideMedianStop({ rule: fromFirst, goal: 'min', iteration: 1, value: 9, completed: [a, b] }).stop,
    ).toBe(true);
  });

  it('needs min_completed_runs runs that reported a finite value by that iteration', () => {
    expect(decideMedianStop({ rule, goal: 'min', iteration: 5, value: 9, completed: [a] })).toEqual({
      stop: false,
      why: 'too_few_completed',
    });
    const lateStarter = series([20, 0.1]);
    const diverged = series([5, null]);
    const infinite = series([5, Infinity]);
    for (const other of [lateStarter, diverged, infinite]) {
      expect(decideMedianStop({ rule, goal: 'min', iteration: 5, value: 9, completed: [a, other] })).toEqual({
        stop: false,
        why: 'too_few_completed',
      });
    }
    const three = { ...rule, min_completed_runs: 3 };
    expect(
      decideMedianStop({ rule: three, goal: 'min', iteration: 5, value: 9, completed: [a, b] }).stop,
    ).toBe(false);
    expect(
      decideMedianStop({ rule: three, goal: 'min', iteration: 5, value: 9, completed: [a, b, c] }).stop,
    ).toBe(true);
  });

  it('counts a NaN or infinite value of the run itself as worse (a diverged run)', () => {
    expect(
      decideMedianStop({ rule, goal: 'min', iteration: 5, value: null, completed: [a, b] }),
    ).toMatchObject({ stop: true, value: null });
    expect(
      decideMedianStop({ rule, goal: 'max', iteration: 5, value: -Infinity, completed: [a, b] }).stop,
    ).toBe(true);
  });
});

describe('describeMedianStop', () => {
  it('names the metric, its value, the median and the iteration', () => {
    const d = decideMedianStop({ rule, goal: 'min', iteration: 5, value: 1.3456789, completed: [a, b] });
    if (!d.stop) throw new Error('expected a stop');
    expect(describeMedianStop({ name: 'loss', split: 'val', goal: 'min' }, d)).toBe(
      'early stopped by the median rule: val loss 1.34568 at iteration 5 is above the median 1.2 of 2 completed sweep runs at that iteration',
    );
  });
});

describe('the sweep body field early_stopping', () => {
  const body = {
    base: { method: 'sft', model: 'm/x', data: './d', iters: 10 },
    grid: { learning_rate: [1e-4, 1e-5] },
    metric: { name: 'loss', goal: 'min' },
  };
  const issues = (extra: object) => {
    try {
      parseSweepSpec({ ...body, ...extra });
    } catch (e) {
      expect(e).toBeInstanceOf(RequestValidationError);
      return (e as RequestValidationError).issues;
    }
    throw new Error('expected a validation error');
  };

  it('is stored in the spec with min_completed_runs defaulting to 2, and absent when not asked for', () => {
    expect(parseSweepSpec(body).early_stopping).toBeUndefined();
    expect(parseSweepSpec({ ...body, early_stopping: { rule: 'median' } }).early_stopping).toEqual({
      rule: 'median',
      min_completed_runs: 2,
    });
    expect(
      parseSweepSpec({
        ...body,
        early_stopping: { rule: 'median', min_iterations: 50, min_completed_runs: 3 },
      }).early_stopping,
    ).toEqual({
      rule: 'median',
      min_iterations: 50,
      min_completed_runs: 3,
    });
  });

  it('rejects unknown rules, bad numbers, unknown keys and a test-split metric, naming the field', () => {
    expect(issues({ early_stopping: { rule: 'hyperband' } })[0]?.path).toBe('early_stopping.rule');
    expect(issues({ early_stopping: { rule: 'median', min_iterations: 0 } })[0]?.path).toBe(
      'early_stopping.min_iterations',
    );
    expect(issues({ early_stopping: { rule: 'median', min_completed_runs: 1.5 } })[0]?.path).toBe(
      'early_stopping.min_completed_runs',
    );
    expect(issues({ early_stopping: { rule: 'median', patience: 3 } })[0]?.path).toMatch(/^early_stopping/);
    expect(
      issues({ early_stopping: { rule: 'median' }, metric: { name: 'loss', split: 'test', goal: 'min' } })[0]
        ?.path,
    ).toBe('early_stopping');
  });
});
