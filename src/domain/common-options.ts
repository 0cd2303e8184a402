// The options every method takes: the run's core (model, data, length), training, quantization, YAML-only keys
// and dataset key renames. Options of some methods only are in method-options.ts; the table says which.
import type { OptionSpec } from './option-spec.js';

export const COMMON_FLAG_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'model',
    flag: '--model',
    kind: 'path',
    description: 'Local model directory or Hugging Face repo id.',
  },
  {
    key: 'data',
    flag: '--data',
    kind: 'path',
    description:
      'Local directory with train.jsonl (valid.jsonl, test.jsonl optional), or an uploaded dataset id "dataset:<sha256>".',
  },
  {
    key: 'iters',
    flag: '--iters',
    kind: 'int',
    min: 1,
    description: 'Training iterations (exactly one of iters or epochs).',
  },
  {
    key: 'epochs',
    flag: '--epochs',
    kind: 'int',
    min: 1,
    description: 'Training epochs (exactly one of iters or epochs).',
  },
  {
    key: 'batch_size',
    flag: '--batch-size',
    kind: 'int',
    min: 1,
    default: 4,
    recommended: { min: 1, max: 64 },
    description: 'Examples per step (prompts per step for GRPO).',
  },
  {
    key: 'learning_rate',
    flag: '--learning-rate',
    kind: 'float',
    gt: 0,
    default: 1e-5,
    recommended: { min: 1e-7, max: 1e-3 },
    description: 'Adam learning rate.',
  },
  {
    key: 'num_layers',
    flag: '--num-layers',
    kind: 'int',
    min: -1,
    default: -1,
    description: 'Layers to fine-tune (-1 for all).',
  },
  {
    key: 'max_seq_length',
    flag: '--max-seq-length',
    kind: 'int',
    min: 1,
    default: 2048,
    description: 'Maximum sequence length.',
  },
  {
    key: 'steps_per_report',
    flag: '--steps-per-report',
    kind: 'int',
    min: 1,
    default: 10,
    description: 'Iterations between train reports.',
  },
  {
    key: 'steps_per_eval',
    flag: '--steps-per-eval',
    kind: 'int',
    min: 1,
    default: 200,
    description: 'Iterations between validations.',
  },
  {
    key: 'save_every',
    flag: '--save-every',
    kind: 'int',
    min: 1,
    default: 100,
    description: 'Iterations between checkpoints (the resume points after a crash).',
  },
  {
    key: 'val_batches',
    flag: '--val-batches',
    kind: 'int',
    min: -1,
    default: 25,
    description: 'Validation batches (-1 for the whole set).',
  },
  {
    key: 'test',
    flag: '--test',
    kind: 'bool',
    default: false,
    description: 'Evaluate on test.jsonl after training.',
  },
  {
    key: 'test_batches',
    flag: '--test-batches',
    kind: 'int',
    min: -1,
    default: 500,
    description: 'Test batches (-1 for the whole set).',
  },
  {
    key: 'grad_checkpoint',
    flag: '--grad-checkpoint',
    kind: 'bool',
    default: false,
    description: 'Gradient checkpointing to save memory.',
  },
  {
    key: 'gradient_accumulation_steps',
    flag: '--gradient-accumulation-steps',
    kind: 'int',
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
    default: 'lora',
    description: 'Adapter type.',
  },
  {
    key: 'optimizer',
    flag: '--optimizer',
    kind: 'choice',
    choices: ['adam', 'adamw', 'muon'],
    default: 'adam',
    description: 'Optimizer.',
  },
  { key: 'seed', flag: '--seed', kind: 'int', min: 0, default: 0, description: 'Random seed.' },
  {
    key: 'load_in_4bits',
    flag: '--load-in-4bits',
    kind: 'bool',
    default: false,
    description: 'Quantize the model to 4 bits on load.',
  },
  {
    key: 'load_in_6bits',
    flag: '--load-in-6bits',
    kind: 'bool',
    default: false,
    description: 'Quantize the model to 6 bits on load.',
  },
  {
    key: 'load_in_8bits',
    flag: '--load-in-8bits',
    kind: 'bool',
    default: false,
    description: 'Quantize the model to 8 bits on load.',
  },
  {
    key: 'load_in_mxfp4',
    flag: '--load-in-mxfp4',
    kind: 'bool',
    default: false,
    description: 'Quantize the model to MXFP4 on load.',
  },
  {
    key: 'resume_adapter_file',
    flag: '--resume-adapter-file',
    kind: 'path',
    description: 'Adapter weights to start from.',
  },
  {
    key: 'wandb',
    flag: '--wandb',
    kind: 'string',
    description: 'Weights & Biases project to report to.',
  },
  {
    key: 'lm_studio_name',
    flag: '--lm-studio-name',
    kind: 'string',
    description: 'Send the fused model to LM Studio under this name (needs fuse: true).',
  },
];

/** Keys only YAML can set (they go into the run's config.yaml). */
export const COMMON_YAML_OPTIONS: readonly OptionSpec[] = [
  {
    key: 'lora_parameters',
    kind: 'object',
    description: '{rank, dropout, scale} for LoRA/DoRA (default 8 / 0.0 / 10.0).',
  },
  {
    key: 'lr_schedule',
    kind: 'object',
    description: '{name, arguments, warmup, warmup_init} as mlx_lm build_schedule reads it.',
  },
  {
    key: 'optimizer_config',
    kind: 'object',
    description: 'Keyword arguments per optimizer: {adam: {...}, adamw: {...}, muon: {...}}.',
  },
];

/** `<field>_feature`: the dataset key a record field is read from. */
export const FEATURE_OPTIONS: readonly OptionSpec[] = (
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
).map((f) => ({
  key: `${f}_feature`,
  kind: 'string',
  description: `Dataset key to read instead of "${f === 'chat' ? 'messages' : f}".`,
}));
