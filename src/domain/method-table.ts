// The table of methods: one entry per mlx-lm-lora train mode and one per GRPO variant, holding every fact the
// service knows about a method. Schemas, dataset checks, YAML import, the catalogue, metrics, memory estimates and
// the pages derive from it (methods.ts); a mode without an entry, or an entry missing a fact, does not compile.
import { FTPO_KEYS, type QuotedKeys } from './dataset-keys.js';
import type { ModeEntry, TinyData, VariantEntry } from './method-entry.js';
import type { MethodOptionKey } from './method-options.js';
import {
  FTPO_METRICS,
  GRPO_METRICS,
  ONLINE_METRICS,
  PREFERENCE_METRICS,
  RLHF_METRICS,
  SFT_METRICS,
} from './metric-catalogue.js';

export const TRAIN_MODES = [
  'sft',
  'dpo',
  'cpo',
  'orpo',
  'grpo',
  'online_dpo',
  'xpo',
  'rlhf_reinforce',
  'ppo',
  'ftpo',
] as const;
export type TrainMode = (typeof TRAIN_MODES)[number];

/** The mode upstream trains when a config sets no train_mode. */
export const DEFAULT_TRAIN_MODE = 'sft' satisfies TrainMode;

/** Presets of grpo: each fixes or requires GRPO options. */
export const VARIANT_NAMES = ['gspo', 'dr_grpo', 'dapo'] as const;
export type Variant = (typeof VARIANT_NAMES)[number];

export {
  METHOD_FAMILIES,
  type MethodFamily,
  type ModeEntry,
  type OutputDialect,
  type VariantEntry,
} from './method-entry.js';

const QAT = [
  'qat_enable',
  'qat_bits',
  'qat_group_size',
  'qat_mode',
  'qat_start_step',
  'qat_interval',
] as const;
const DPO_LOSS = ['dpo_cpo_loss_type', 'delta'] as const;

const RAISES_TOO_FEW: TinyData = {
  behaviour: 'raises',
  problem: (file, rows, b) =>
    `${file} has ${rows} rows, fewer than batch_size=${b}: upstream raises 'Dataset must have at least batch_size=${b} examples but only has ${rows}.'`,
};
const HANGS: TinyData = { behaviour: 'hangs' };

const PREFERENCE_DATA = {
  formats: ['preference'],
  unsupported: 'Unsupported data format for Online DPO or CPO training.',
  needs: (k: QuotedKeys) => `${k.prompt}, ${k.chosen} and ${k.rejected}`,
  sample: {
    prompt: 'Explain AI in one sentence.',
    chosen: 'AI is software that learns patterns from data to make predictions or decisions.',
    rejected: 'AI is magic.',
  },
} as const;
const PROMPT_DATA = {
  formats: ['prompt'],
  unsupported: 'Unsupported data format for RLHF training.',
  needs: (k: QuotedKeys) => k.prompt,
  sample: { prompt: 'Write a haiku about autumn.' },
} as const;

const preference = (title: string, description: string, options: readonly MethodOptionKey[]) =>
  ({
    title,
    description,
    family: 'preference',
    options,
    judge: false,
    reference: false,
    generates: false,
    sequencesPerExample: 2,
    dataset: PREFERENCE_DATA,
    tinyData: HANGS,
    test: 'works',
    output: 'preference-line',
    metrics: PREFERENCE_METRICS,
    reward: null,
  }) satisfies ModeEntry;

const online = (title: string, description: string, options: readonly MethodOptionKey[], perPrompt: 1 | 2) =>
  ({
    title,
    description,
    family: 'online',
    options: ['beta', ...options],
    judge: true,
    reference: true,
    generates: true,
    sequencesPerExample: perPrompt,
    dataset: PROMPT_DATA,
    tinyData: HANGS,
    test: 'works',
    output: 'online-line',
    metrics: ONLINE_METRICS,
    reward: null,
  }) satisfies ModeEntry;

export const MODE_TABLE = {
  sft: {
    title: 'SFT',
    description: 'Supervised fine-tuning on text, chat or prompt/completion records.',
    family: 'sft',
    options: ['sft_loss_type', 'mask_prompt', 'efficient_long_context', ...QAT],
    judge: false,
    reference: false,
    generates: false,
    sequencesPerExample: 1,
    dataset: {
      formats: ['sft:completions', 'sft:chat', 'sft:text'],
      unsupported: 'Unsupported data format for SFT training.',
      needs: (k) => `${k.prompt} + ${k.completion}, ${k.chat}, or ${k.text}`,
      sample: { prompt: 'What is 2+2?', completion: '4' },
    },
    tinyData: RAISES_TOO_FEW,
    test: { crashes: 'TypeError: cannot unpack non-iterable float object' },
    output: 'lora-line',
    metrics: SFT_METRICS,
    reward: null,
  },
  dpo: {
    ...preference(
      'DPO',
      'Direct preference optimisation on prompt/chosen/rejected pairs, with a reference model.',
      ['efficient_long_context', 'beta', ...DPO_LOSS, ...QAT],
    ),
    reference: true,
  },
  cpo: preference(
    'CPO',
    'Contrastive preference optimisation on prompt/chosen/rejected pairs, no reference model.',
    ['efficient_long_context', 'beta', ...DPO_LOSS],
  ),
  orpo: {
    ...preference(
      'ORPO',
      'Odds-ratio preference optimisation; chosen/rejected with optional preference_score.',
      ['efficient_long_context', 'beta', ...QAT],
    ),
    dataset: {
      formats: ['orpo'],
      unsupported: 'Unsupported data format for ORPO training.',
      needs: (k) => `${k.chosen} and ${k.rejected}`,
      sample: {
        prompt: 'What is AI?',
        chosen: 'Software that learns from data.',
        rejected: 'A robot.',
        preference_score: 0.8,
      },
    },
    tinyData: RAISES_TOO_FEW,
    test: { crashes: "AttributeError: 'Namespace' object has no attribute 'seq_step_size'" },
  },
  grpo: {
    title: 'GRPO',
    description: 'Group relative policy optimisation with reward functions on prompt/answer records.',
    family: 'grpo',
    options: [
      'beta',
      'group_size',
      'epsilon',
      'epsilon_high',
      'temperature',
      'grpo_loss_type',
      'importance_sampling_level',
      'reward_functions',
      'reward_weights',
      'reward_functions_file',
    ],
    judge: false,
    reference: true,
    generates: true,
    sequencesPerExample: 'group_size',
    dataset: {
      formats: ['grpo'],
      unsupported: 'Unsupported data format for Online GRPO training.',
      needs: (k) => `${k.prompt} and ${k.answer}`,
      sample: { prompt: 'Solve 2+2', answer: '4' },
    },
    tinyData: RAISES_TOO_FEW,
    test: {
      crashes: "ImportError: cannot import name 'iterate_batches' from 'mlx_lm_lora.trainer.grpo_trainer'",
    },
    output: 'grpo-block',
    metrics: GRPO_METRICS,
    reward: { name: 'total_rewards_mean', split: 'train' },
  },
  online_dpo: online(
    'Online DPO',
    'Online DPO: completions generated and judged during training.',
    [...DPO_LOSS, 'temperature'],
    2,
  ),
  xpo: online('XPO', 'Exploratory preference optimisation with a judge model.', DPO_LOSS, 2),
  rlhf_reinforce: {
    ...online(
      'RLHF-REINFORCE',
      'REINFORCE with a KL penalty against a reference model, rewards from a judge.',
      [],
      1,
    ),
    test: { crashes: 'ValueError: too many values to unpack (expected 3)' },
    output: 'rlhf-line',
    metrics: RLHF_METRICS,
    reward: { name: 'rewards', split: 'train' },
  },
  ppo: online(
    'PPO',
    'Proximal policy optimisation with a judge model.',
    [...DPO_LOSS, 'epsilon', 'temperature'],
    1,
  ),
  ftpo: {
    title: 'FTPO',
    description: 'Final-token preference optimisation on Antidoom rows.',
    family: 'ftpo',
    options: ['lambda_mse_target', 'tau_mse_target', 'lambda_mse', 'clip_epsilon_logits'],
    judge: false,
    reference: true,
    generates: false,
    sequencesPerExample: 1,
    dataset: {
      formats: ['ftpo'],
      unsupported: 'Unsupported data format for FTPO training.',
      needs: () => FTPO_KEYS.map((key) => `"${key}"`).join(', '),
      sample: {
        context_with_chat_template:
          '<|im_start|>user\nDescribe the sea.<|im_end|>\n<|im_start|>assistant\nThe sea is',
        rejected_decoded: ' very',
        multi_chosen_decoded: [' quite', ' rather'],
      },
    },
    tinyData: {
      behaviour: 'raises',
      problem: (file, rows, b) =>
        `${file} has ${rows} rows: FTPO dataset must contain at least batch_size=${b} rows (upstream raises)`,
    },
    test: 'works',
    output: 'ftpo-line',
    metrics: FTPO_METRICS,
    reward: null,
  },
} as const satisfies Record<TrainMode, ModeEntry>;

export const VARIANT_TABLE = {
  gspo: {
    of: 'grpo',
    title: 'GSPO',
    description: 'GRPO with sequence-level importance sampling.',
    fixed: { importance_sampling_level: 'sequence' },
  },
  dr_grpo: {
    of: 'grpo',
    title: 'Dr. GRPO',
    description: 'GRPO with the Dr. GRPO loss (sum divided by completions x max_completion_length).',
    fixed: { grpo_loss_type: 'dr_grpo' },
  },
  dapo: {
    of: 'grpo',
    title: 'DAPO',
    description: 'GRPO with asymmetric clip-higher: the ratio is clipped to [1-epsilon, 1+epsilon_high].',
    requires: ['epsilon_high'],
    check: (r) => {
      if (typeof r.epsilon_high !== 'number') return null;
      const eps = typeof r.epsilon === 'number' ? r.epsilon : 1e-4;
      return r.epsilon_high <= eps
        ? { path: 'epsilon_high', message: `must be greater than epsilon (${eps}) for DAPO's clip-higher` }
        : null;
    },
  },
} satisfies Record<Variant, VariantEntry>;
