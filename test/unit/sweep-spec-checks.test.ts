// Sweep specs that are refused (each field named), the sweep metric against what the methods report, the metrics catalogue.
import { describe, expect, it } from 'vitest';

import { methodMetrics } from '../../src/domain/method-metrics.js';
import { METHODS } from '../../src/domain/methods.js';
import { MAX_SWEEP_RUNS, parseSweepSpec } from '../../src/domain/sweep-spec.js';
import { GRPO_LINES, TRAIN_KEYS, VAL_KEYS } from '../../src/domain/trainer-output-grammar.js';
import { base, issuesOf, metric } from '../helpers/sweep-spec-cases.js';

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
