// A large metric series for the metrics repository: ten names a train iteration, random values. The test that checks
// it is written and read back and the benchmark figure bench/figures/repository.ts that times it use the same one.
import type { MetricPoint } from '../../src/domain/metric-point.js';

const NAMES = [
  'loss',
  'learning_rate',
  'it_per_sec',
  'tokens_per_sec',
  'trained_tokens',
  'peak_memory_gb',
  'reward',
  'reward_std',
  'kl',
  'grad_norm',
];

/** 10 points (one a name) for each of iterations 1..iterations: 100,000 for 10,000 iterations. */
export function trainMetricPoints(iterations: number): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (let it = 1; it <= iterations; it++)
    for (const name of NAMES) points.push({ iteration: it, split: 'train', name, value: Math.random() });
  return points;
}
