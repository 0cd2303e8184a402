// The metrics each method reports (its table entry's list) and the spellings sweeps accept for them.
import { type Method, METHOD_INFO } from './methods.js';
import { type MetricInfo, REWARD_FUNCTION_METRIC, REWARD_FUNCTION_PATTERN } from './metric-catalogue.js';
import type { MetricSplit } from './metric-point.js';

export { type MetricInfo, REWARD_FUNCTION_METRIC } from './metric-catalogue.js';

/** The metrics a method reports, in the order the catalogue shows them (its mode's, from the table). */
export function methodMetrics(method: Method): readonly MetricInfo[] {
  return METHOD_INFO[method].mode.metrics;
}

/** Common spellings from other tools: the name and split they mean. `reward` depends on the method. */
export const METRIC_ALIASES: Readonly<Record<string, { name: string; split: MetricSplit } | 'reward'>> = {
  val_loss: { name: 'loss', split: 'val' },
  'val/loss': { name: 'loss', split: 'val' },
  eval_loss: { name: 'loss', split: 'val' },
  train_loss: { name: 'loss', split: 'train' },
  'train/loss': { name: 'loss', split: 'train' },
  test_loss: { name: 'loss', split: 'test' },
  reward: 'reward',
  mean_reward: 'reward',
};

/** What `reward` means for a method: GRPO's mean total reward, RLHF-REINFORCE's judge reward; others have none. */
function rewardMetric(method: Method): { name: string; split: MetricSplit } | null {
  return METHOD_INFO[method].mode.reward;
}

export type MetricResolution =
  | { ok: true; name: string; split: MetricSplit }
  | { ok: false; path: 'metric.name' | 'metric.split'; message: string };

function info(method: Method, name: string): MetricInfo | undefined {
  const list = methodMetrics(method);
  return (
    list.find((x) => x.name === name) ??
    (REWARD_FUNCTION_METRIC.test(name) ? list.find((x) => x.name === REWARD_FUNCTION_PATTERN) : undefined)
  );
}

/** The split a name is judged on when none is given: loss on validation, the rest on train reports (as before), else what there is. */
function defaultSplitOf(name: string, splits: readonly MetricSplit[]): MetricSplit | undefined {
  const order = name === 'loss' ? (['val', 'train', 'test'] as const) : (['train', 'val', 'test'] as const);
  return order.find((s) => splits.includes(s));
}

type Resolved =
  | { name: string; split: MetricSplit }
  | { unknown: true }
  | { alias: string; means: string }
  | { name: string; splits: readonly MetricSplit[]; asked: MetricSplit | undefined };

/** The name and split a sweep metric means for these methods, or why it means nothing (messages are added by the caller). */
function resolve(methods: readonly Method[], name: string, split: MetricSplit | undefined): Resolved {
  const alias = METRIC_ALIASES[name];
  let target: { name: string; split: MetricSplit | undefined } = { name, split };
  if (alias !== undefined) {
    const resolved = alias === 'reward' ? methods.map(rewardMetric) : methods.map(() => alias);
    const first = resolved[0];
    if (first === undefined || first === null || resolved.some((r) => r === null || r.name !== first.name))
      return { unknown: true };
    if (split !== undefined && split !== first.split)
      return { alias: name, means: `${first.split} ${first.name}` };
    target = first;
  }
  const found = methods.map((method) => info(method, target.name));
  if (found.length === 0 || found.some((f) => f === undefined)) return { unknown: true };
  const splits = found[0]!.splits.filter((s) => found.every((f) => f!.splits.includes(s)));
  const chosen = target.split ?? defaultSplitOf(target.name, splits);
  if (chosen === undefined || !splits.includes(chosen))
    return { name: target.name, splits, asked: target.split };
  return { name: target.name, split: chosen };
}

/**
 * Resolves a sweep's metric for the methods it runs: an alias becomes its name and split, and the name must be
 * one every one of those methods reports, on the split asked for. A failure names every valid name.
 */
export function resolveMetric(
  methods: readonly Method[],
  name: string,
  split: MetricSplit | undefined,
): MetricResolution {
  const r = resolve(methods, name, split);
  if ('unknown' in r) {
    const by =
      methods.length > 1
        ? ` by every method of the sweep (${methods.join(', ')})`
        : ` by ${methods.join(', ')}`;
    return {
      ok: false,
      path: 'metric.name',
      message: `"${name}" is not a metric reported${by}; valid names: ${validNames(methods).join(', ')}`,
    };
  }
  if ('alias' in r)
    return {
      ok: false,
      path: 'metric.split',
      message: `"${r.alias}" means ${r.means}; leave split out or set it to ${r.means.split(' ')[0]}`,
    };
  if ('splits' in r) {
    const on = r.splits.length > 0 ? r.splits.join(', ') : 'no split common to these methods';
    return {
      ok: false,
      path: r.asked === undefined ? 'metric.name' : 'metric.split',
      message: `${r.name} is reported on ${on}, not ${r.asked ?? 'val or train'}`,
    };
  }
  return { ok: true, name: r.name, split: r.split };
}

/** Every name `resolveMetric` takes for these methods: the shared metric names, then the aliases that apply. */
export function validNames(methods: readonly Method[]): string[] {
  const [first, ...rest] = methods;
  if (first === undefined) return [];
  const shared = methodMetrics(first)
    .map((x) => x.name)
    .filter((name) => rest.every((method) => methodMetrics(method).some((x) => x.name === name)));
  const aliases = Object.keys(METRIC_ALIASES).filter((a) => 'split' in resolve(methods, a, undefined));
  return [...shared, ...aliases];
}
