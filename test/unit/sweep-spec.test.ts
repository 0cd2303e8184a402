import { describe, expect, it } from 'vitest';

import { RequestValidationError } from '../../src/domain/errors.js';
import { methodMetrics } from '../../src/domain/method-metrics.js';
import { METHODS } from '../../src/domain/methods.js';
import {
  applyValues,
  combinationCount,
  describeValues,
  expandSweep,
  MAX_SWEEP_RUNS,
  parseSweepSpec,
  sampleRandom,
  stableJson,
} from '../../src/domain/sweep-spec.js';
import { GRPO_LINES, TRAIN_KEYS, VAL_KEYS } from '../../src/domain/trainer-output-grammar.js';

const base = { method: 'grpo', model: 'm/x', data: './test_data/grpo', iters: 10 };
const metric = { name: 'loss', goal: 'min' };

function issuesOf(body: unknown) {
  try {
    expandSweep(parseSweepSpec(body));
  } catch (e) {
    expect(e).toBeInstanceOf(RequestValidationError);
    return (e as RequestValidationError).issues;
  }
  throw new Error('expected a validation error');
}

describe('grid expansion', () => {
  it('is the cartesian product in the order the body lists parameters, the last varying fastest', () => {
    const spec = parseSweepSpec({
      base,
      grid: { group_size: [2, 4, 8], temperature: [0.7, 0.9, 1.1] },
      metric,
    });
    const combos = expandSweep(spec);
    expect(combos).toHaveLength(9);
    expect(combos.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(combos.slice(0, 4).map((c) => c.values)).toEqual([
      { group_size: 2, temperature: 0.7 },
      { group_size: 2, temperature: 0.9 },
      { group_size: 2, temperature: 1.1 },
      { group_size: 4, temperature: 0.7 },
    ]);
    expect(combos[8]!.values).toEqual({ group_size: 8, temperature: 1.1 });
    expect(combinationCount(spec)).toBe(9);
  });

  it('gives the same list for the same body', () => {
    const body = { base, grid: { learning_rate: [1e-5, 1e-4], group_size: [2, 4] }, metric };
    expect(expandSweep(parseSweepSpec(body))).toEqual(expandSweep(parseSweepSpec(structuredClone(body))));
  });

  it('fills in the metric split: val for loss, train otherwise', () => {
    expect(parseSweepSpec({ base, grid: { iters: [1] }, metric }).metric).toEqual({
      name: 'loss',
      split: 'val',
      goal: 'min',
    });
    const reward = parseSweepSpec({
      base,
      grid: { iters: [1] },
      metric: { name: 'total_rewards_mean', goal: 'max' },
    });
    expect(reward.metric.split).toBe('train');
    const train = parseSweepSpec({
      base,
      grid: { iters: [1] },
      metric: { name: 'loss', split: 'train', goal: 'min' },
    });
    expect(train.metric.split).toBe('train');
  });
});

describe('random sampling', () => {
  const random = {
    params: {
      learning_rate: { min: 1e-6, max: 1e-3, log: true, int: false },
      max_seq_length: { min: 4, max: 64, log: false, int: true },
      temperature: [0.7, 0.9],
      epsilon: { min: 0.1, max: 0.3, log: false, int: false },
    },
    samples: 20,
    seed: 42,
  };

  it('draws the same samples for the same seed and different ones for another seed', () => {
    const a = sampleRandom({ ...random, params: { ...random.params } });
    expect(a).toEqual(sampleRandom(random));
    expect(a).toHaveLength(20);
    expect(sampleRandom({ ...random, seed: 43 })).not.toEqual(a);
  });

  it('keeps every value inside its range, integers integral, log ranges spread over decades', () => {
    const samples = sampleRandom({ ...random, samples: 500 });
    const lrs = samples.map((s) => s.learning_rate as number);
    for (const s of samples) {
      expect(s.learning_rate).toBeGreaterThanOrEqual(1e-6);
      expect(s.learning_rate).toBeLessThanOrEqual(1e-3);
      expect(Number.isInteger(s.max_seq_length)).toBe(true);
      expect(s.max_seq_length).toBeGreaterThanOrEqual(4);
      expect(s.max_seq_length).toBeLessThanOrEqual(64);
      expect([0.7, 0.9]).toContain(s.temperature);
      expect(s.epsilon).toBeGreaterThanOrEqual(0.1);
      expect(s.epsilon).toBeLessThanOrEqual(0.3);
    }
    // Log-uniform: about a third of the draws fall in each decade.
    expect(lrs.filter((v) => v < 1e-5).length).toBeGreaterThan(100);
    expect(lrs.filter((v) => v > 1e-4).length).toBeGreaterThan(100);
    expect(new Set(samples.map((s) => s.max_seq_length)).size).toBeGreaterThan(40);
  });

  it('draws distinct samples, fewer when the space is smaller than asked', () => {
    const samples = sampleRandom({ params: { group_size: [2, 4, 8] }, samples: 10, seed: 1 });
    expect(samples.map((s) => s.group_size).sort()).toEqual([2, 4, 8]);
  });

  it('crosses each grid point with the same samples', () => {
    const spec = parseSweepSpec({
      base,
      grid: { group_size: [2, 4] },
      random: { params: { temperature: { min: 0.5, max: 1.5 } }, samples: 3, seed: 7 },
      metric,
    });
    const combos = expandSweep(spec);
    expect(combos).toHaveLength(6);
    expect(combos.slice(0, 3).map((c) => c.values.temperature)).toEqual(
      combos.slice(3).map((c) => c.values.temperature),
    );
    expect(combos[0]!.values).toMatchObject({ group_size: 2 });
    expect(Object.keys(combos[0]!.values)).toEqual(['group_size', 'temperature']);
  });

  it('defaults the seed to 0', () => {
    const spec = parseSweepSpec({
      base,
      random: { params: { temperature: { min: 0.5, max: 1.5 } }, samples: 2 },
      metric,
    });
    expect(spec.random?.seed).toBe(0);
  });
});

describe('rejected sweeps name the field', () => {
  it.each([
    ['no parameter to vary', { base, metric }, 'grid', /at least one parameter/],
    [
      'an unknown parameter',
      { base, grid: { grop_size: [2] }, metric },
      'grid.grop_size',
      /not a run-request key/,
    ],
    [
      'a kebab-case parameter',
      { base, grid: { 'group-size': [2] }, metric },
      'grid.group-size',
      /did you mean group_size/,
    ],
    [
      'a rejected option',
      { base, grid: { adapter_path: ['/tmp/a'] }, metric },
      'grid.adapter_path',
      /not accepted: the service writes every run/,
    ],
    [
      'a nested key of a non-object option',
      { base, grid: { 'iters.x': [1] }, metric },
      'grid.iters.x',
      /not an object option/,
    ],
    [
      'a parameter in grid and random',
      { base, grid: { temperature: [1] }, random: { params: { temperature: [0.5] }, samples: 1 }, metric },
      'random.params.temperature',
      /also in grid/,
    ],
    [
      'a value listed twice',
      { base, grid: { group_size: [2, 2] }, metric },
      'grid.group_size',
      /lists 2 twice/,
    ],
    [
      'an empty value list',
      { base, grid: { group_size: [] }, metric },
      'grid.group_size',
      /at least one value/,
    ],
    [
      'a range with min >= max',
      { base, random: { params: { temperature: { min: 1, max: 1 } }, samples: 2 }, metric },
      'random.params.temperature',
      /less than max/,
    ],
    [
      'a log range from 0',
      { base, random: { params: { learning_rate: { min: 0, max: 1, log: true } }, samples: 2 }, metric },
      'random.params.learning_rate',
      /min > 0/,
    ],
    [
      'an int range with fractions',
      { base, random: { params: { group_size: { min: 2.5, max: 8, int: true } }, samples: 2 }, metric },
      'random.params.group_size',
      /integer/,
    ],
    [
      'a bad goal',
      { base, grid: { iters: [1] }, metric: { name: 'loss', goal: 'lowest' } },
      'metric.goal',
      /min/,
    ],
    ['a missing metric', { base, grid: { iters: [1] } }, 'metric', /./],
    ['a base that is not an object', { base: 'x', grid: { iters: [1] }, metric }, 'base', /run request/],
    ['an unknown top-level key', { base, grid: { iters: [1] }, metric, gird: {} }, '', /gird/],
    [
      'more runs than max_runs',
      { base, grid: { group_size: [2, 4, 8] }, metric, max_runs: 2 },
      'max_runs',
      /expands to 3 runs; the cap is 2/,
    ],
  ])('%s', (_what, body, path, message) => {
    const issues = issuesOf(body);
    const hit = issues.find((i) => i.path === path && message.test(i.message));
    expect(hit, JSON.stringify(issues)).toBeDefined();
  });

  it('more combinations than the service cap, without building them', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    const issues = issuesOf({ base, grid: { iters: values, seed: values }, metric });
    expect(issues).toEqual([
      { path: 'grid', message: `the sweep expands to 10000 runs; the cap is ${MAX_SWEEP_RUNS} per sweep` },
    ]);
  });
});

describe('run bodies', () => {
  it('set varied values over the base, nested keys one level in', () => {
    const body = applyValues(
      { ...base, temperature: 0.8, lora_parameters: { rank: 8, dropout: 0.1 } },
      { temperature: 1.1, 'lora_parameters.rank': 16 },
    );
    expect(body).toEqual({ ...base, temperature: 1.1, lora_parameters: { rank: 16, dropout: 0.1 } });
    expect(applyValues(base, { 'lora_parameters.scale': 20 })).toEqual({
      ...base,
      lora_parameters: { scale: 20 },
    });
  });

  it('describe a combination compactly and compare objects whatever their key order', () => {
    expect(
      describeValues({ group_size: 2, temperature: 0.7, model: 'a/b', lora_parameters: { rank: 8 } }),
    ).toBe('group_size=2, temperature=0.7, model=a/b, lora_parameters={"rank":8}');
    expect(stableJson({ b: 1, a: { d: 1, c: 2 } })).toBe(stableJson({ a: { c: 2, d: 1 }, b: 1 }));
  });

  it('accepts nested parameters of object options', () => {
    const spec = parseSweepSpec({ base, grid: { 'lora_parameters.rank': [8, 16] }, metric });
    expect(expandSweep(spec).map((c) => c.values)).toEqual([
      { 'lora_parameters.rank': 8 },
      { 'lora_parameters.rank': 16 },
    ]);
  });
});

describe('the sweep metric is checked against what the methods report', () => {
  const sft = { method: 'sft', model: 'm/x', data: './test_data/sft-chat', iters: 10 };
  const grid = { learning_rate: [1e-5, 1e-4] };
  const metricOf = (body: Record<string, unknown>) => parseSweepSpec({ grid, ...body }).metric;

  it.each([
    ['val_loss', sft, { name: 'loss', split: 'val' }],
    ['val/loss', sft, { name: 'loss', split: 'val' }],
    ['eval_loss', sft, { name: 'loss', split: 'val' }],
    ['train_loss', sft, { name: 'loss', split: 'train' }],
    ['reward', base, { name: 'total_rewards_mean', split: 'train' }],
    ['mean_reward', base, { name: 'total_rewards_mean', split: 'train' }],
    ['reward', { ...base, method: 'rlhf_reinforce' }, { name: 'rewards', split: 'train' }],
    ['perplexity', sft, { name: 'perplexity', split: 'test' }],
    ['reward/accuracy/mean', base, { name: 'reward/accuracy/mean', split: 'train' }],
  ])('%s on %s', (name, b, want) => {
    expect(metricOf({ base: b, metric: { name, goal: 'min' } })).toEqual({ ...want, goal: 'min' });
  });

  it('refuses an unknown name on metric.name, listing the valid names', () => {
    const issues = issuesOf({ base: sft, grid, metric: { name: 'val_los', goal: 'min' } });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('metric.name');
    expect(issues[0]!.message).toMatch(
      /^"val_los" is not a metric reported by sft; valid names: loss, learning_rate, /,
    );
    for (const n of ['val_loss', 'train_loss', 'val/loss', 'eval_loss', 'perplexity'])
      expect(issues[0]!.message).toContain(n);
    expect(issues[0]!.message).not.toMatch(/\breward\b/);
  });

  it('refuses a name one of the varied methods does not report, and a reward alias for a method without rewards', () => {
    const mixed = issuesOf({
      base: sft,
      grid: { method: ['sft', 'dpo'] },
      metric: { name: 'chosen_reward', goal: 'max' },
    });
    expect(mixed[0]).toMatchObject({
      path: 'metric.name',
      message: expect.stringMatching(/by every method of the sweep \(sft, dpo\)/) as unknown,
    });
    expect(issuesOf({ base: sft, grid, metric: { name: 'reward', goal: 'max' } })[0]!.path).toBe(
      'metric.name',
    );
  });

  it('refuses a split the metric is not reported on, and an alias with a contradicting split', () => {
    expect(
      issuesOf({ base: sft, grid, metric: { name: 'perplexity', split: 'val', goal: 'min' } })[0],
    ).toMatchObject({ path: 'metric.split' });
    expect(
      issuesOf({ base: sft, grid, metric: { name: 'val_loss', split: 'train', goal: 'min' } })[0],
    ).toMatchObject({ path: 'metric.split', message: expect.stringMatching(/means val loss/) as unknown });
    expect(
      issuesOf({ base: { ...sft, method: 'ftpo' }, grid, metric: { name: 'val_loss', goal: 'min' } })[0]!
        .path,
    ).toBe('metric.split');
  });

  it('applies to early stopping: a misspelt name is refused, a test-only metric cannot drive it', () => {
    const early_stopping = { rule: 'median' };
    expect(
      issuesOf({ base: sft, grid, early_stopping, metric: { name: 'vall_loss', goal: 'min' } })[0]!.path,
    ).toBe('metric.name');
    expect(
      issuesOf({ base: sft, grid, early_stopping, metric: { name: 'perplexity', goal: 'min' } })[0]!.path,
    ).toBe('early_stopping');
    expect(
      parseSweepSpec({ base: sft, grid, early_stopping, metric: { name: 'val_loss', goal: 'min' } })
        .early_stopping,
    ).toBeDefined();
  });
});

describe('the metrics catalogue', () => {
  it('names only metrics the output parser records for train and val', () => {
    const train = new Set([
      ...TRAIN_KEYS.values(),
      ...GRPO_LINES.flatMap((l) => l.names),
      'reward/<function>/mean',
    ]);
    const val = new Set(VAL_KEYS.values());
    for (const method of METHODS) {
      for (const x of methodMetrics(method)) {
        if (x.splits.includes('train')) expect(train.has(x.name), `${method} train ${x.name}`).toBe(true);
        if (x.splits.includes('val')) expect(val.has(x.name), `${method} val ${x.name}`).toBe(true);
      }
    }
  });
});
