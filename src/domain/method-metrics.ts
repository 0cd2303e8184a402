// The metrics each method reports (names as trainer-output.ts records them) and the spellings sweeps accept for them.
import { type Method, METHOD_INFO } from './methods.js';
import type { MetricSplit } from './metric-point.js';

export interface MetricInfo {
  name: string;
  /** The splits it is reported on; a name can be reported on several (loss: train, val and test). */
  splits: readonly MetricSplit[];
  description: string;
}

/** GRPO prints one line per reward function; its metrics are named `reward/<display name>/mean|std|coverage`. */
export const REWARD_FUNCTION_METRIC = /^reward\/[^/]+\/(?:mean|std|coverage)$/;
const REWARD_FUNCTION_PATTERN = 'reward/<function>/mean';

const m = (name: string, splits: readonly MetricSplit[], description: string): MetricInfo => ({
  name,
  splits,
  description,
});
const T = ['train'] as const;
const TV = ['train', 'val'] as const;
const TVT = ['train', 'val', 'test'] as const;

const speed = [
  m('learning_rate', T, 'learning rate at the report'),
  m('it_per_sec', T, 'iterations per second'),
  m('tokens_per_sec', T, 'tokens per second'),
  m('peak_memory_gb', T, 'peak Metal memory, GB'),
];
const trainedTokens = m('trained_tokens', T, 'tokens trained so far');
const valTime = m('time_s', ['val'], 'seconds the validation took');
const testLoss = [m('perplexity', ['test'], 'test perplexity')];

const SFT = [
  m('loss', TVT, 'loss (train report, validation, test)'),
  ...speed,
  trainedTokens,
  valTime,
  ...testLoss,
  m('tokens', ['test'], 'test tokens'),
];

const preferenceTest = [
  'policy_chosen_logps',
  'policy_rejected_logps',
  'chosen_logits_mean',
  'rejected_logits_mean',
].map((n) => m(n, ['test'], `test ${n.replace(/_/g, ' ')}`));
const PREFERENCE = [
  m('loss', TVT, 'loss (train report, validation, test)'),
  m('chosen_reward', ['train', 'val', 'test'], 'mean reward of the chosen responses'),
  m('rejected_reward', ['train', 'val', 'test'], 'mean reward of the rejected responses'),
  m('accuracy', TV, 'fraction of pairs ranked correctly'),
  m('margin', TV, 'mean chosen-minus-rejected reward margin'),
  m('accuracies', ['test'], 'test accuracy'),
  m('margins', ['test'], 'test margin'),
  ...speed,
  valTime,
  ...testLoss,
  ...preferenceTest,
];

const ONLINE = [
  ...PREFERENCE.filter((x) => !['chosen_reward', 'rejected_reward'].includes(x.name)),
  m('chosen_reward', ['val'], 'validation reward of the chosen responses'),
  m('rejected_reward', ['val'], 'validation reward of the rejected responses'),
  m('exploration_bonus', ['test'], 'XPO test exploration bonus'),
  m('chosen_kl', ['test'], 'XPO test KL of the chosen responses'),
  m('rejected_kl', ['test'], 'XPO test KL of the rejected responses'),
  m('policy_loss', ['test'], 'PPO test policy loss'),
  m('kl_penalty', ['test'], 'PPO test KL penalty'),
  m('advantages_mean', ['test'], 'PPO test mean advantage'),
  m('ratios_mean', ['test'], 'PPO test mean ratio'),
  m('clip_fraction', ['test'], 'PPO test clip fraction'),
  trainedTokens,
];

const RLHF = [
  m('loss', TV, 'loss (train report, validation)'),
  m('rewards', TV, 'mean judge reward'),
  m('kl_penalty', TV, 'KL penalty against the reference model'),
  m('advantages', ['val'], 'validation mean advantage'),
  ...speed,
  trainedTokens,
  valTime,
];

const GRPO = [
  m('loss', TVT, 'loss (train report, validation, test)'),
  m('total_rewards_mean', T, 'mean total reward (weighted sum of the reward functions)'),
  m('total_rewards_std', T, 'standard deviation of the total reward'),
  m('group_rewards_mean', T, 'mean of the per-group rewards'),
  m('group_rewards_std', T, 'standard deviation within groups'),
  m('kl', T, 'KL divergence from the reference model'),
  m(
    REWARD_FUNCTION_PATTERN,
    T,
    'mean of one reward function (also /std and /coverage), named as the trainer prints it',
  ),
  m('clip_low', T, 'fraction clipped at 1-epsilon'),
  m('clip_high', T, 'fraction clipped at 1+epsilon_high'),
  m('clip_total', T, 'fraction clipped in all'),
  m('avg_tokens', T, 'mean completion length, tokens'),
  m('min_tokens', T, 'shortest completion, tokens'),
  m('max_tokens', T, 'longest completion, tokens'),
  m('hit_limit_ratio', T, 'fraction of completions that hit max_completion_length'),
  ...speed,
  valTime,
  ...testLoss,
  m('tokens', ['test'], 'test tokens'),
];

const FTPO = [
  m('loss', ['train', 'test'], 'loss (train report, test)'),
  m('chosen_win', ['train', 'test'], 'fraction where the chosen token wins'),
  m('margin_win', ['train', 'test'], 'mean winning margin'),
  m('it_per_sec', T, 'iterations per second'),
  ...['pref_loss', 'mse_elem', 'mse_tgt_tokenwise', 'mean_delta', 'active_weight'].map((n) =>
    m(n, ['test'], `test ${n.replace(/_/g, ' ')}`),
  ),
];

/** The metrics a method reports, in the order the catalogue shows them. */
export function methodMetrics(method: Method): readonly MetricInfo[] {
  const info = METHOD_INFO[method];
  switch (info.family) {
    case 'sft':
      return SFT;
    case 'preference':
      return PREFERENCE;
    case 'grpo':
      return GRPO;
    case 'online':
      return method === 'rlhf_reinforce' ? RLHF : ONLINE;
    case 'ftpo':
      return FTPO;
    default: {
      const never: never = info.family;
      throw new Error(`unknown method family ${String(never)}`);
    }
  }
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
  if (METHOD_INFO[method].family === 'grpo') return { name: 'total_rewards_mean', split: 'train' };
  if (method === 'rlhf_reinforce') return { name: 'rewards', split: 'train' };
  return null;
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
