// Catalogue of mlx-lm-lora options a queued run may set: YAML key, CLI flag, type, modes, defaults and ranges.
import type { TrainMode } from './methods.js';

export type OptionKind = 'int' | 'float' | 'string' | 'bool' | 'choice' | 'path' | 'object';

export interface OptionSpec {
  /** The YAML key and argparse dest (snake_case). */
  key: string;
  /** The CLI flag; absent for keys only YAML can set. */
  flag?: string;
  kind: OptionKind;
  choices?: readonly string[];
  /** Train modes it applies to; 'all' for every mode. */
  modes: readonly TrainMode[] | 'all';
  /** Upstream's parser default is not None, so a YAML value would be ignored: always pass it on the CLI. */
  cliAlways?: boolean;
  /** The value the service uses when the request leaves it out. */
  default?: number | string | boolean;
  min?: number;
  /** Values must be strictly greater than this. */
  gt?: number;
  max?: number;
  /** Values must be strictly less than this. */
  lt?: number;
  recommended?: { min: number; max: number };
  description: string;
}

const GRPO: TrainMode[] = ['grpo'];
const JUDGE_MODES: TrainMode[] = ['online_dpo', 'xpo', 'ppo', 'rlhf_reinforce'];
const REF_MODES: TrainMode[] = ['dpo', 'ftpo', 'grpo', 'online_dpo', 'xpo', 'ppo', 'rlhf_reinforce'];
const DPO_LOSS_MODES: TrainMode[] = ['dpo', 'cpo', 'online_dpo', 'xpo', 'ppo'];
const QAT_MODES: TrainMode[] = ['sft', 'dpo', 'orpo'];
const LONG_CONTEXT_MODES: TrainMode[] = ['sft', 'dpo', 'cpo', 'orpo'];

export const RUN_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'model',
    flag: '--model',
    kind: 'path',
    modes: 'all',
    description: 'Local model directory or Hugging Face repo id.',
  },
  {
    key: 'data',
    flag: '--data',
    kind: 'path',
    modes: 'all',
    description:
      'Local directory with train.jsonl (valid.jsonl, test.jsonl optional), or an uploaded dataset id "dataset:<sha256>".',
  },
  {
    key: 'iters',
    flag: '--iters',
    kind: 'int',
    modes: 'all',
    min: 1,
    description: 'Training iterations (exactly one of iters or epochs).',
  },
  {
    key: 'epochs',
    flag: '--epochs',
    kind: 'int',
    modes: 'all',
    min: 1,
    description: 'Training epochs (exactly one of iters or epochs).',
  },
  {
    key: 'batch_size',
    flag: '--batch-size',
    kind: 'int',
    modes: 'all',
    min: 1,
    default: 4,
    recommended: { min: 1, max: 64 },
    description: 'Examples per step (prompts per step for GRPO).',
  },
  {
    key: 'learning_rate',
    flag: '--learning-rate',
    kind: 'float',
    modes: 'all',
    gt: 0,
    default: 1e-5,
    recommended: { min: 1e-7, max: 1e-3 },
    description: 'Adam learning rate.',
  },
  {
    key: 'num_layers',
    flag: '--num-layers',
    kind: 'int',
    modes: 'all',
    min: -1,
    default: -1,
    description: 'Layers to fine-tune (-1 for all).',
  },
  {
    key: 'max_seq_length',
    flag: '--max-seq-length',
    kind: 'int',
    modes: 'all',
    min: 1,
    default: 2048,
    description: 'Maximum sequence length.',
  },
  {
    key: 'steps_per_report',
    flag: '--steps-per-report',
    kind: 'int',
    modes: 'all',
    min: 1,
    default: 10,
    description: 'Iterations between train reports.',
  },
  {
    key: 'steps_per_eval',
    flag: '--steps-per-eval',
    kind: 'int',
    modes: 'all',
    min: 1,
    default: 200,
    description: 'Iterations between validations.',
  },
  {
    key: 'save_every',
    flag: '--save-every',
    kind: 'int',
    modes: 'all',
    min: 1,
    default: 100,
    description: 'Iterations between checkpoints (the resume points after a crash).',
  },
  {
    key: 'val_batches',
    flag: '--val-batches',
    kind: 'int',
    modes: 'all',
    min: -1,
    default: 25,
    description: 'Validation batches (-1 for the whole set).',
  },
  {
    key: 'test',
    flag: '--test',
    kind: 'bool',
    modes: 'all',
    default: false,
    description: 'Evaluate on test.jsonl after training.',
  },
  {
    key: 'test_batches',
    flag: '--test-batches',
    kind: 'int',
    modes: 'all',
    min: -1,
    default: 500,
    description: 'Test batches (-1 for the whole set).',
  },
  {
    key: 'grad_checkpoint',
    flag: '--grad-checkpoint',
    kind: 'bool',
    modes: 'all',
    default: false,
    description: 'Gradient checkpointing to save memory.',
  },
  {
    key: 'gradient_accumulation_steps',
    flag: '--gradient-accumulation-steps',
    kind: 'int',
    modes: 'all',
    min: 1,
    default: 1,
    cliAlways: true,
    description: 'Steps to accumulate gradients over.',
  },
  {
    key: 'train_type',
    flag: '--train-type',
    kind: 'choice',
    choices: ['lora', 'dora', 'full'],
    modes: 'all',
    default: 'lora',
    description: 'Adapter type.',
  },
  {
    key: 'optimizer',
    flag: '--optimizer',
    kind: 'choice',
    choices: ['adam', 'adamw', 'muon'],
    modes: 'all',
    default: 'adam',
    description: 'Optimizer.',
  },
  { key: 'seed', flag: '--seed', kind: 'int', modes: 'all', min: 0, default: 0, description: 'Random seed.' },
  {
    key: 'load_in_4bits',
    flag: '--load-in-4bits',
    kind: 'bool',
    modes: 'all',
    default: false,
    description: 'Quantize the model to 4 bits on load.',
  },
  {
    key: 'load_in_6bits',
    flag: '--load-in-6bits',
    kind: 'bool',
    modes: 'all',
    default: false,
    description: 'Quantize the model to 6 bits on load.',
  },
  {
    key: 'load_in_8bits',
    flag: '--load-in-8bits',
    kind: 'bool',
    modes: 'all',
    default: false,
    description: 'Quantize the model to 8 bits on load.',
  },
  {
    key: 'load_in_mxfp4',
    flag: '--load-in-mxfp4',
    kind: 'bool',
    modes: 'all',
    default: false,
    description: 'Quantize the model to MXFP4 on load.',
  },
  {
    key: 'resume_adapter_file',
    flag: '--resume-adapter-file',
    kind: 'path',
    modes: 'all',
    description: 'Adapter weights to start from.',
  },
  {
    key: 'wandb',
    flag: '--wandb',
    kind: 'string',
    modes: 'all',
    description: 'Weights & Biases project to report to.',
  },
  {
    key: 'lm_studio_name',
    flag: '--lm-studio-name',
    kind: 'string',
    modes: 'all',
    description: 'Send the fused model to LM Studio under this name (needs fuse: true).',
  },
  // SFT
  {
    key: 'sft_loss_type',
    flag: '--sft-loss-type',
    kind: 'choice',
    choices: ['nll', 'chunked_nll', 'dft'],
    modes: ['sft'],
    default: 'nll',
    cliAlways: true,
    description: 'SFT loss.',
  },
  {
    key: 'mask_prompt',
    flag: '--mask-prompt',
    kind: 'bool',
    modes: ['sft'],
    default: false,
    description: 'Mask the prompt in the loss (chat and prompt/completion data only).',
  },
  {
    key: 'efficient_long_context',
    flag: '--efficient-long-context',
    kind: 'bool',
    modes: LONG_CONTEXT_MODES,
    default: false,
    description: 'Memory-efficient long-context training.',
  },
  // Preference and RL
  {
    key: 'beta',
    flag: '--beta',
    kind: 'float',
    modes: ['dpo', 'cpo', 'orpo', 'grpo', 'online_dpo', 'xpo', 'ppo', 'rlhf_reinforce'],
    min: 0,
    default: 0.1,
    recommended: { min: 0, max: 1 },
    description: 'KL / preference strength.',
  },
  {
    key: 'dpo_cpo_loss_type',
    flag: '--dpo-cpo-loss-type',
    kind: 'choice',
    choices: ['sigmoid', 'hinge', 'ipo', 'dpop'],
    modes: DPO_LOSS_MODES,
    default: 'sigmoid',
    cliAlways: true,
    description: 'Preference loss.',
  },
  {
    key: 'delta',
    flag: '--delta',
    kind: 'float',
    modes: DPO_LOSS_MODES,
    default: 50.0,
    cliAlways: true,
    description: 'Delta for the dpop loss.',
  },
  {
    key: 'reference_model_path',
    flag: '--reference-model-path',
    kind: 'path',
    modes: REF_MODES,
    description: 'Reference model (defaults to the main model).',
  },
  {
    key: 'judge',
    flag: '--judge',
    kind: 'path',
    modes: JUDGE_MODES,
    description: 'Judge model (local path or Hugging Face repo id).',
  },
  // GRPO family
  {
    key: 'group_size',
    flag: '--group-size',
    kind: 'int',
    modes: GRPO,
    min: 2,
    default: 4,
    cliAlways: true,
    recommended: { min: 2, max: 16 },
    description: 'Completions sampled per prompt.',
  },
  {
    key: 'epsilon',
    flag: '--epsilon',
    kind: 'float',
    modes: ['grpo', 'ppo'],
    gt: 0,
    lt: 1,
    default: 1e-4,
    cliAlways: true,
    recommended: { min: 1e-4, max: 1e-2 },
    description: 'Clip range (lower side for DAPO).',
  },
  {
    key: 'epsilon_high',
    flag: '--epsilon-high',
    kind: 'float',
    modes: GRPO,
    gt: 0,
    lt: 1,
    description: 'Upper clip range (DAPO clip-higher); must exceed epsilon.',
  },
  {
    key: 'temperature',
    flag: '--temperature',
    kind: 'float',
    modes: ['grpo', 'online_dpo', 'ppo'],
    gt: 0,
    default: 0.8,
    cliAlways: true,
    recommended: { min: 0.6, max: 1.2 },
    description: 'Sampling temperature (passed explicitly: the CLI default is 1.0).',
  },
  {
    key: 'max_completion_length',
    flag: '--max-completion-length',
    kind: 'int',
    modes: ['grpo', 'online_dpo', 'xpo', 'ppo', 'rlhf_reinforce'],
    min: 1,
    default: 512,
    cliAlways: true,
    recommended: { min: 128, max: 2048 },
    description: 'Tokens generated per completion at most.',
  },
  {
    key: 'grpo_loss_type',
    flag: '--grpo-loss-type',
    kind: 'choice',
    choices: ['grpo', 'bnpo', 'dr_grpo'],
    modes: GRPO,
    default: 'grpo',
    cliAlways: true,
    description: 'GRPO loss normalisation.',
  },
  {
    key: 'importance_sampling_level',
    flag: '--importance-sampling-level',
    kind: 'choice',
    choices: ['token', 'sequence'],
    modes: GRPO,
    default: 'token',
    cliAlways: true,
    description: 'token (GRPO) or sequence (GSPO).',
  },
  {
    key: 'reward_functions',
    flag: '--reward-functions',
    kind: 'string',
    modes: GRPO,
    description: 'Reward function names (list, or comma-separated string); default all five built-ins.',
  },
  {
    key: 'reward_weights',
    flag: '--reward-weights',
    kind: 'string',
    modes: GRPO,
    description: 'One weight per reward function (list of numbers, or "[0.7,0.3]").',
  },
  {
    key: 'reward_functions_file',
    flag: '--reward-functions-file',
    kind: 'path',
    modes: GRPO,
    description: 'Python file registering extra reward functions (executed by the trainer).',
  },
  // FTPO
  {
    key: 'lambda_mse_target',
    flag: '--lambda-mse-target',
    kind: 'float',
    modes: ['ftpo'],
    min: 0,
    default: 0.05,
    description: 'FTPO target MSE weight.',
  },
  {
    key: 'tau_mse_target',
    flag: '--tau-mse-target',
    kind: 'float',
    modes: ['ftpo'],
    gt: 0,
    default: 1.0,
    description: 'FTPO target MSE temperature.',
  },
  {
    key: 'lambda_mse',
    flag: '--lambda-mse',
    kind: 'float',
    modes: ['ftpo'],
    min: 0,
    default: 0.4,
    description: 'FTPO MSE weight.',
  },
  {
    key: 'clip_epsilon_logits',
    flag: '--clip-epsilon-logits',
    kind: 'float',
    modes: ['ftpo'],
    gt: 0,
    default: 2.0,
    description: 'FTPO logit clip.',
  },
  // QAT
  {
    key: 'qat_enable',
    flag: '--qat-enable',
    kind: 'bool',
    modes: QAT_MODES,
    default: false,
    description: 'Quantization-aware training.',
  },
  {
    key: 'qat_bits',
    flag: '--qat-bits',
    kind: 'int',
    modes: QAT_MODES,
    min: 2,
    max: 8,
    default: 8,
    description: 'QAT bits.',
  },
  {
    key: 'qat_group_size',
    flag: '--qat-group-size',
    kind: 'int',
    modes: QAT_MODES,
    min: 1,
    default: 64,
    description: 'QAT group size.',
  },
  {
    key: 'qat_mode',
    flag: '--qat-mode',
    kind: 'choice',
    choices: ['affine'],
    modes: QAT_MODES,
    default: 'affine',
    description: 'QAT mode.',
  },
  {
    key: 'qat_start_step',
    flag: '--qat-start-step',
    kind: 'int',
    modes: QAT_MODES,
    min: 1,
    default: 1,
    description: 'First QAT step.',
  },
  {
    key: 'qat_interval',
    flag: '--qat-interval',
    kind: 'int',
    modes: QAT_MODES,
    min: 1,
    default: 1,
    description: 'Steps between QAT updates.',
  },
  // Keys only YAML can set (they go into the run's config.yaml)
  {
    key: 'lora_parameters',
    kind: 'object',
    modes: 'all',
    description: '{rank, dropout, scale} for LoRA/DoRA (default 8 / 0.0 / 10.0).',
  },
  {
    key: 'lr_schedule',
    kind: 'object',
    modes: 'all',
    description: '{name, arguments, warmup, warmup_init} as mlx_lm build_schedule reads it.',
  },
  {
    key: 'optimizer_config',
    kind: 'object',
    modes: 'all',
    description: 'Keyword arguments per optimizer: {adam: {...}, adamw: {...}, muon: {...}}.',
  },
  { key: 'judge_config', kind: 'object', modes: JUDGE_MODES, description: '{system_prompt} for the judge.' },
  ...(
    [
      'text',
      'chat',
      'prompt',
      'completion',
      'system',
      'chosen',
      'rejected',
      'preference_score',
      'type',
      'answer',
    ] as const
  ).map((f): OptionSpec => ({
    key: `${f}_feature`,
    kind: 'string',
    modes: 'all',
    description: `Dataset key to read instead of "${f === 'chat' ? 'messages' : f}".`,
  })),
];

export const OPTION_BY_KEY: ReadonlyMap<string, OptionSpec> = new Map(RUN_OPTIONS.map((o) => [o.key, o]));

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
  return option.modes === 'all' || option.modes.includes(mode);
}
