// A sweep expanded into its combinations: the grid's cartesian product, seeded random draws, and one combination
// applied to the base request. Pure and deterministic: the same spec gives the same list on every platform.
import { RequestValidationError } from './errors.js';
import type { SweepCombination, SweepRange, SweepSpec } from './sweep-spec.js';

/** A sweep never expands to more runs than this (each combination is validated before anything is queued). */
export const MAX_SWEEP_RUNS = 1000;

/** How many runs the sweep expands to, computed without building them. */
export function combinationCount(spec: SweepSpec): number {
  const gridCount = Object.values(spec.grid).reduce((n, values) => n * values.length, 1);
  return gridCount * (spec.random?.samples ?? 1);
}

/**
 * Every combination in a deterministic order: the grid as a cartesian product in the order the body lists
 * its parameters (the last one varies fastest), crossed with the random samples (drawn once from the seed,
 * so each grid point gets the same samples). Throws RequestValidationError when the sweep is too large.
 */
export function expandSweep(spec: SweepSpec): SweepCombination[] {
  const count = combinationCount(spec);
  const cap = Math.min(spec.max_runs ?? MAX_SWEEP_RUNS, MAX_SWEEP_RUNS);
  if (count > cap) {
    const path = spec.max_runs !== undefined && spec.max_runs < MAX_SWEEP_RUNS ? 'max_runs' : 'grid';
    throw new RequestValidationError([
      {
        path,
        message: `the sweep expands to ${count} runs; the cap is ${cap}${path === 'max_runs' ? ' (max_runs)' : ' per sweep'}`,
      },
    ]);
  }
  const samples = spec.random ? sampleRandom(spec.random) : [{}];
  const combos: SweepCombination[] = [];
  for (const point of gridPoints(spec.grid)) {
    for (const sample of samples) combos.push({ index: combos.length, values: { ...point, ...sample } });
  }
  return combos;
}

function gridPoints(grid: Record<string, unknown[]>): Record<string, unknown>[] {
  let points: Record<string, unknown>[] = [{}];
  for (const [param, values] of Object.entries(grid)) {
    points = points.flatMap((p) => values.map((v) => ({ ...p, [param]: v })));
  }
  return points;
}

/** Draws `samples` distinct parameter sets (fewer when the space is smaller); the same seed gives the same list. */
export function sampleRandom(random: NonNullable<SweepSpec['random']>): Record<string, unknown>[] {
  const next = prng(random.seed);
  const entries = Object.entries(random.params);
  const out: Record<string, unknown>[] = [];
  const seen = new Set<string>();
  for (let draw = 0; out.length < random.samples && draw < random.samples * 100; draw++) {
    const sample = Object.fromEntries(entries.map(([param, dist]) => [param, drawOne(dist, next)]));
    const key = stableJson(sample);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(sample);
  }
  return out;
}

function drawOne(dist: SweepRange | unknown[], next: () => number): unknown {
  if (Array.isArray(dist)) return dist[Math.floor(next() * dist.length)];
  const { min, max, log, int } = dist;
  if (int) {
    const v = log
      ? Math.floor(Math.exp(Math.log(min) + next() * (Math.log(max + 1) - Math.log(min))))
      : min + Math.floor(next() * (max - min + 1));
    return Math.min(max, Math.max(min, v));
  }
  const v = log
    ? Math.exp(Math.log(min) + next() * (Math.log(max) - Math.log(min)))
    : min + next() * (max - min);
  // Six significant digits keep configs and CSV readable; clamping keeps rounding inside the range.
  return Math.min(max, Math.max(min, Number(v.toPrecision(6))));
}

/** mulberry32, seeded from both halves of a safe integer: small, fast, and the same on every platform. */
function prng(seed: number): () => number {
  let a = ((seed % 2 ** 32) ^ Math.floor(seed / 2 ** 32)) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The run request body of one combination: the base with the varied values set (dotted keys go one level in). */
export function applyValues(
  base: Record<string, unknown>,
  values: Record<string, unknown>,
): Record<string, unknown> {
  const body: Record<string, unknown> = { ...base };
  for (const [param, value] of Object.entries(values)) {
    const dot = param.indexOf('.');
    if (dot < 0) {
      body[param] = value;
      continue;
    }
    const head = param.slice(0, dot);
    const inner = body[head];
    const obj = typeof inner === 'object' && inner !== null && !Array.isArray(inner) ? inner : {};
    body[head] = { ...obj, [param.slice(dot + 1)]: value };
  }
  return body;
}

/** `group_size=2, temperature=0.7`: how messages, names and the CSV show a combination. */
export function describeValues(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : stableJson(v)}`)
    .join(', ');
}

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
export function stableJson(value: unknown): string {
  return (
    JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'object' && v !== null && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : v,
    ) ?? 'undefined'
  );
}
