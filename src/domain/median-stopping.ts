// The median stopping rule for sweeps: a member whose metric at an iteration is worse than the median of what the
// completed members reported by that iteration is stopped. Pure: the worker feeds it points read from SQLite.
import { z } from 'zod';

import type { MetricGoal } from './run.js';

/**
 * Upstream measures val loss at iteration 1 before any training step, so it says nothing about the parameters
 * being compared; by default the first report after training has begun is the first one judged.
 */
export const DEFAULT_MIN_ITERATIONS = 2;
export const DEFAULT_MIN_COMPLETED_RUNS = 2;

export const earlyStoppingSchema = z.strictObject({
  rule: z.literal('median', 'the only rule is "median"'),
  min_iterations: z.number().int().min(1).max(10_000_000).optional(),
  min_completed_runs: z.number().int().min(1).max(1000).default(DEFAULT_MIN_COMPLETED_RUNS),
});

/** As stored in the sweep spec. */
export interface EarlyStopping {
  rule: 'median';
  min_iterations?: number;
  min_completed_runs: number;
}

export interface MetricPointAt {
  iteration: number;
  /** null for NaN (a diverged run). */
  value: number | null;
}

export interface MedianCheck {
  rule: EarlyStopping;
  goal: MetricGoal;
  /** The member's newest report of the sweep's metric. */
  iteration: number;
  value: number | null;
  /** Each completed member's series of the metric (one value per iteration, any order). */
  completed: readonly (readonly MetricPointAt[])[];
}

export type MedianDecision =
  | { stop: false; why: 'too_early' | 'too_few_completed' | 'not_worse' }
  | { stop: true; iteration: number; value: number | null; median: number; compared: number };

/** The value a series had at `iteration`: reported there, or at the nearest earlier iteration; undefined if none. */
export function valueAtOrBefore(
  series: readonly MetricPointAt[],
  iteration: number,
): number | null | undefined {
  let best: MetricPointAt | undefined;
  for (const p of series) {
    if (p.iteration <= iteration && (best === undefined || p.iteration > best.iteration)) best = p;
  }
  return best?.value;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Stop when the value is worse than the median of the completed members' values at the same iteration (or their
 * nearest earlier report). Members that had not reported by then, or reported NaN/infinity, are left out; fewer
 * than min_completed_runs left means no decision. A NaN or infinite value of the member itself counts as worse.
 * Equal to the median is not worse.
 */
export function decideMedianStop(check: MedianCheck): MedianDecision {
  const minIterations = check.rule.min_iterations ?? DEFAULT_MIN_ITERATIONS;
  if (check.iteration < minIterations) return { stop: false, why: 'too_early' };
  const others: number[] = [];
  for (const series of check.completed) {
    const v = valueAtOrBefore(series, check.iteration);
    if (typeof v === 'number' && Number.isFinite(v)) others.push(v);
  }
  if (others.length < check.rule.min_completed_runs) return { stop: false, why: 'too_few_completed' };
  const m = median(others);
  const v = check.value;
  const worse = v === null || !Number.isFinite(v) || (check.goal === 'min' ? v > m : v < m);
  if (!worse) return { stop: false, why: 'not_worse' };
  return { stop: true, iteration: check.iteration, value: v, median: m, compared: others.length };
}

const show = (v: number | null) =>
  v === null ? 'NaN' : Number.isFinite(v) ? String(Number(v.toPrecision(6))) : String(v);

/** The run event's reason: the metric, its value, the median and the iteration. */
export function describeMedianStop(
  metric: { name: string; split: string; goal: MetricGoal },
  d: Extract<MedianDecision, { stop: true }>,
): string {
  const direction = metric.goal === 'min' ? 'above' : 'below';
  return (
    `early stopped by the median rule: ${metric.split} ${metric.name} ${show(d.value)} at iteration ${d.iteration} ` +
    `is ${direction} the median ${show(d.median)} of ${d.compared} completed sweep runs at that iteration`
  );
}
