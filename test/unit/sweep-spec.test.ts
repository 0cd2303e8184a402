// Sweep specs: grid expansion, random sampling and the run bodies a sweep makes.
import { describe, expect, it } from 'vitest';

import {
  applyValues,
  combinationCount,
  describeValues,
  expandSweep,
  parseSweepSpec,
  sampleRandom,
  stableJson,
} from '../../src/domain/sweep-spec.js';
import { base, metric } from '../helpers/sweep-spec-cases.js';

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
