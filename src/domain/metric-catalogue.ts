// What each output dialect of the trainer reports: metric names (as trainer-output.ts records them), their splits
// and meaning. The table of methods (method-table.ts) gives each mode its list.
import type { MetricSplit } from './metric-point.js';

export interface MetricInfo {
  name: string;
  /** The splits it is reported on; a name can be reported on several (loss: train, val and test). */
  splits: readonly MetricSplit[];
  description: string;
}

/** GRPO prints one line per reward function; its metrics are named `reward/<display name>/mean|std|coverage`. */
export const REWARD_FUNCTION_METRIC = /^reward\/[^/]+\/(?:mean|std|coverage)$/;
export const REWARD_FUNCTION_PATTERN = 'reward/<function>/mean';

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

export const SFT_METRICS = [
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
export const PREFERENCE_METRICS = [
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

export const ONLINE_METRICS = [
  ...PREFERENCE_METRICS.filter((x) => !['chosen_reward', 'rejected_reward'].includes(x.name)),
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

export const RLHF_METRICS = [
  m('loss', TV, 'loss (train report, validation)'),
  m('rewards', TV, 'mean judge reward'),
  m('kl_penalty', TV, 'KL penalty against the reference model'),
  m('advantages', ['val'], 'validation mean advantage'),
  ...speed,
  trainedTokens,
  valTime,
];

export const GRPO_METRICS = [
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

export const FTPO_METRICS = [
  m('loss', ['train', 'test'], 'loss (train report, test)'),
  m('chosen_win', ['train', 'test'], 'fraction where the chosen token wins'),
  m('margin_win', ['train', 'test'], 'mean winning margin'),
  m('it_per_sec', T, 'iterations per second'),
  ...['pref_loss', 'mse_elem', 'mse_tgt_tokenwise', 'mean_delta', 'active_weight'].map((n) =>
    m(n, ['test'], `test ${n.replace(/_/g, ' ')}`),
  ),
];
