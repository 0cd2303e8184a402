// The sweep body: its zod schema, grid expansion and seeded random sampling into an ordered list of combinations.
import { z } from 'zod';

import { type FieldIssue, RequestValidationError } from './errors.js';
import { type FollowUpRequest, parseFollowUpList } from './follow-up-request.js';
import { type EarlyStopping, earlyStoppingSchema } from './median-stopping.js';
import { resolveMetric } from './method-metrics.js';
import { isMethod, type Method } from './methods.js';
import { placementSchema } from './placement.js';
import { METRIC_SPLITS, type MetricGoal, type MetricSplit } from './run.js';
import { OPTION_BY_KEY, REJECTED_OPTIONS } from './run-options.js';
import { SERVICE_FIELDS, zodIssues } from './run-request.js';
import { MAX_SWEEP_RUNS, stableJson } from './sweep-expansion.js';

export {
  applyValues,
  combinationCount,
  describeValues,
  expandSweep,
  MAX_SWEEP_RUNS,
  sampleRandom,
  stableJson,
} from './sweep-expansion.js';

const MAX_VALUES_PER_PARAM = 1000;

const range = z
  .strictObject({
    min: z.number(),
    max: z.number(),
    log: z.boolean().default(false),
    int: z.boolean().default(false),
  })
  .superRefine((r, ctx) => {
    const bad = (message: string) => ctx.addIssue({ code: 'custom', message });
    if (!(r.min < r.max)) bad(`min (${r.min}) must be less than max (${r.max})`);
    if (r.log && r.min <= 0) bad('log sampling needs min > 0');
    if (r.int && !(Number.isInteger(r.min) && Number.isInteger(r.max)))
      bad('int sampling needs integer min and max');
  });
export type SweepRange = z.infer<typeof range>;

const choices = z.array(z.unknown()).min(1, 'needs at least one choice').max(MAX_VALUES_PER_PARAM);
const gridValues = z.array(z.unknown()).min(1, 'needs at least one value').max(MAX_VALUES_PER_PARAM);

export const sweepBodySchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    base: z.record(z.string(), z.unknown(), 'must be a run request (a JSON object)'),
    grid: z.record(z.string(), gridValues).optional(),
    random: z
      .strictObject({
        params: z.record(
          z.string(),
          z.union([range, choices], 'must be {min, max, log?, int?} or a list of choices'),
        ),
        samples: z.number().int().min(1).max(MAX_SWEEP_RUNS),
        seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
      })
      .optional(),
    metric: z.strictObject({
      name: z.string().trim().min(1).max(200),
      split: z.enum(METRIC_SPLITS).optional(),
      goal: z.enum(['min', 'max']),
    }),
    max_runs: z.number().int().min(1).max(MAX_SWEEP_RUNS).optional(),
    early_stopping: earlyStoppingSchema.optional(),
    /** Follow-up jobs for every member that succeeds, and for the best run when the sweep ends. */
    after: z.array(z.unknown()).optional(),
    best_after: z.array(z.unknown()).optional(),
    /** Where every member may train (the same as `base.placement`). */
    placement: placementSchema.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.placement && 'placement' in s.base)
      ctx.addIssue({
        code: 'custom',
        path: ['placement'],
        message: 'is also in base; give placement in one place',
      });
    if (s.early_stopping && s.metric.split === 'test') {
      ctx.addIssue({
        code: 'custom',
        path: ['early_stopping'],
        message: 'needs a metric reported during training; test metrics come only at the end',
      });
    }
    const params = Object.keys(s.grid ?? {}).length + Object.keys(s.random?.params ?? {}).length;
    if (params === 0)
      ctx.addIssue({
        code: 'custom',
        path: ['grid'],
        message: 'give grid and/or random with at least one parameter to vary',
      });
  });

export interface SweepMetric {
  name: string;
  split: MetricSplit;
  goal: MetricGoal;
}

/** The normalised sweep: defaults filled in, parameter names checked. Stored as the sweep's spec. */
export interface SweepSpec {
  name?: string;
  base: Record<string, unknown>;
  grid: Record<string, unknown[]>;
  random?: { params: Record<string, SweepRange | unknown[]>; samples: number; seed: number };
  metric: SweepMetric;
  max_runs?: number;
  /** Opt-in: stop members clearly worse than the completed ones (see median-stopping.ts). */
  early_stopping?: EarlyStopping;
  after?: FollowUpRequest[];
  best_after?: FollowUpRequest[];
}

export interface SweepCombination {
  /** Position in the sweep (0-based); runs are created and queued in this order. */
  index: number;
  /** The varied parameters and their values, in the order the sweep lists them. */
  values: Record<string, unknown>;
}

/** The default split: loss is judged on validation, everything else (e.g. GRPO rewards) on training reports. */
export function defaultSplit(metricName: string): MetricSplit {
  return metricName === 'loss' ? 'val' : 'train';
}

/** Validates an untrusted sweep body; throws RequestValidationError naming every bad field. */
export function parseSweepSpec(input: unknown): SweepSpec {
  const parsed = sweepBodySchema.safeParse(input);
  if (!parsed.success) throw new RequestValidationError(zodIssues(parsed.error));
  const s = parsed.data;
  const issues = [
    ...paramIssues('grid', Object.keys(s.grid ?? {})),
    ...paramIssues('random.params', Object.keys(s.random?.params ?? {})),
    ...duplicateIssues(s.grid ?? {}),
  ];
  for (const p of Object.keys(s.random?.params ?? {})) {
    if (s.grid && p in s.grid)
      issues.push({ path: `random.params.${p}`, message: `is also in grid; vary ${p} in one place` });
  }
  const metric = sweepMetric(s, issues);
  if (issues.length > 0) throw new RequestValidationError(issues);
  const spec: SweepSpec = {
    base: s.placement ? { ...s.base, placement: s.placement } : s.base,
    grid: s.grid ?? {},
    metric,
  };
  if (s.name !== undefined) spec.name = s.name;
  if (s.random) spec.random = { params: s.random.params, samples: s.random.samples, seed: s.random.seed };
  if (s.max_runs !== undefined) spec.max_runs = s.max_runs;
  if (s.early_stopping) spec.early_stopping = s.early_stopping;
  if (s.after !== undefined) spec.after = parseFollowUpList(s.after, 'after');
  if (s.best_after !== undefined) spec.best_after = parseFollowUpList(s.best_after, 'best_after');
  return spec;
}

/**
 * The metric checked against what the sweep's methods report (aliases such as val_loss resolved), so a misspelt
 * name is refused now rather than ending a long sweep with no best run. The same metric drives early stopping.
 */
function sweepMetric(s: z.infer<typeof sweepBodySchema>, issues: FieldIssue[]): SweepMetric {
  const fallback = {
    name: s.metric.name,
    split: s.metric.split ?? defaultSplit(s.metric.name),
    goal: s.metric.goal,
  };
  const methods = sweepMethods(s);
  // Without a valid method the run requests themselves are refused (method is required); nothing to check against.
  if (methods.length === 0) return fallback;
  const r = resolveMetric(methods, s.metric.name, s.metric.split);
  if (!r.ok) {
    issues.push({ path: r.path, message: r.message });
    return fallback;
  }
  if (s.early_stopping && r.split === 'test') {
    issues.push({
      path: 'early_stopping',
      message: `needs a metric reported during training; ${r.name} is reported only at test time`,
    });
  }
  return { name: r.name, split: r.split, goal: s.metric.goal };
}

/** The methods the sweep's runs use: the base's, and any it varies. */
function sweepMethods(s: z.infer<typeof sweepBodySchema>): Method[] {
  const varied = s.grid?.method ?? s.random?.params.method;
  const values = Array.isArray(varied) ? varied : [s.base.method];
  return [...new Set(values.filter(isMethod))];
}

/** Keys a sweep may vary: run-request keys, or `<object option>.<field>` such as lora_parameters.rank. */
function paramIssue(param: string): string | undefined {
  const [head = '', sub, ...rest] = param.split('.');
  if (sub !== undefined) {
    if (OPTION_BY_KEY.get(head)?.kind !== 'object')
      return `${head} is not an object option, so ${param} cannot be varied`;
    return rest.length > 0 || sub.length === 0
      ? 'only one level of nesting is supported (e.g. lora_parameters.rank)'
      : undefined;
  }
  if (param === 'method' || (SERVICE_FIELDS as readonly string[]).includes(param) || OPTION_BY_KEY.has(param))
    return undefined;
  const rejected = REJECTED_OPTIONS[param];
  if (rejected) return `not accepted: ${rejected}`;
  const snake = param.toLowerCase().replace(/-/g, '_');
  const hint = snake !== param && OPTION_BY_KEY.has(snake) ? `; did you mean ${snake}?` : '';
  return `is not a run-request key, so it cannot be varied${hint}`;
}

function paramIssues(where: string, params: string[]): FieldIssue[] {
  return params.flatMap((p) => {
    const message = paramIssue(p);
    return message ? [{ path: `${where}.${p}`, message }] : [];
  });
}

function duplicateIssues(grid: Record<string, unknown[]>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const [param, values] of Object.entries(grid)) {
    const seen = new Set<string>();
    for (const v of values) {
      const key = stableJson(v);
      if (seen.has(key)) issues.push({ path: `grid.${param}`, message: `lists ${key} twice` });
      seen.add(key);
    }
  }
  return issues;
}
