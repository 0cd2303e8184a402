// The catalogue of mlx-lm-lora options a queued run may set, in the order the catalogue and the command list them,
// with the options the service refuses. Which method takes which option is in the table of methods.
import { COMMON_FLAG_OPTIONS, COMMON_YAML_OPTIONS, FEATURE_OPTIONS } from './common-options.js';
import { METHOD_FLAG_OPTIONS, METHOD_YAML_OPTIONS } from './method-options.js';
import { modeTakesOption, type TrainMode } from './methods.js';
import type { OptionSpec } from './option-spec.js';

export type { OptionKind, OptionSpec } from './option-spec.js';

export const RUN_OPTIONS: readonly OptionSpec[] = [
  ...COMMON_FLAG_OPTIONS,
  ...METHOD_FLAG_OPTIONS,
  ...COMMON_YAML_OPTIONS,
  ...METHOD_YAML_OPTIONS,
  ...FEATURE_OPTIONS,
];

export const OPTION_BY_KEY: ReadonlyMap<string, OptionSpec> = new Map(RUN_OPTIONS.map((o) => [o.key, o]));

/** The options every method takes. */
export const COMMON_OPTION_KEYS: ReadonlySet<string> = new Set(
  [...COMMON_FLAG_OPTIONS, ...COMMON_YAML_OPTIONS, ...FEATURE_OPTIONS].map((o) => o.key),
);

/** The keys every run needs, whatever its method: what to train, on what, for how long (iters or epochs). */
export const RUN_KEYS = ['model', 'data', 'iters', 'epochs'] as const;

/** Options mlx-lm-lora has but a queued run must not set, with the reason the client is told. */
export const REJECTED_OPTIONS: Readonly<Record<string, string>> = {
  alpha:
    'broken upstream: argparse turns "0.5" into a list of characters and YAML cannot override its default',
  list_reward_functions:
    'does nothing upstream (it neither lists nor exits); GET /v1/methods lists the reward functions',
  reward_scaling: 'parsed but unused upstream',
  adapter_path: 'the service writes every run into its own folder; read adapter_path from the run',
  config: 'send the YAML itself as the request body (Content-Type: application/yaml)',
  train: 'always on: every run trains',
  hf_dataset:
    'datasets must be local directories (or uploads) so they can be validated before the run is queued',
  fine_tune_type: 'mlx_lm name; mlx-lm-lora calls it train_type',
  grad_accumulation_steps: 'mlx_lm name; mlx-lm-lora calls it gradient_accumulation_steps',
};

export const BUILTIN_REWARD_FUNCTIONS = [
  'r1_accuracy_reward_func',
  'r1_int_reward_func',
  'r1_strict_format_reward_func',
  'r1_soft_format_reward_func',
  'r1_count_xml',
] as const;

export function appliesTo(option: OptionSpec, mode: TrainMode): boolean {
  return COMMON_OPTION_KEYS.has(option.key) || modeTakesOption(mode, option.key);
}
