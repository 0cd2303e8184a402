// The service's methods: mlx-lm-lora train modes plus the GRPO variants, and what each one implies on the command line.

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

export const METHODS = [...TRAIN_MODES, 'gspo', 'dr_grpo', 'dapo'] as const;
export type Method = (typeof METHODS)[number];

export type MethodFamily = 'sft' | 'preference' | 'grpo' | 'online' | 'ftpo';

export interface MethodInfo {
  method: Method;
  trainMode: TrainMode;
  family: MethodFamily;
  title: string;
  description: string;
  /** Options this variant fixes; a request that sets them otherwise is rejected. */
  fixed?: Readonly<Record<string, string>>;
  /** Options this method cannot run without (beyond model, data and iters/epochs). */
  requires?: readonly string[];
  /** Upstream modes whose --test evaluation crashes at 3.1.2. */
  testBroken?: boolean;
  /** Modes that hang forever (instead of failing) when a split has fewer rows than batch_size. */
  hangsOnTinyData?: boolean;
  /** Modes that need a judge model. */
  judge?: boolean;
}

const info = (m: MethodInfo) => m;

export const METHOD_INFO: Readonly<Record<Method, MethodInfo>> = {
  sft: info({
    method: 'sft',
    trainMode: 'sft',
    family: 'sft',
    title: 'SFT',
    description: 'Supervised fine-tuning on text, chat or prompt/completion records.',
    testBroken: true,
  }),
  dpo: info({
    method: 'dpo',
    trainMode: 'dpo',
    family: 'preference',
    title: 'DPO',
    description: 'Direct preference optimisation on prompt/chosen/rejected pairs, with a reference model.',
    hangsOnTinyData: true,
  }),
  cpo: info({
    method: 'cpo',
    trainMode: 'cpo',
    family: 'preference',
    title: 'CPO',
    description: 'Contrastive preference optimisation on prompt/chosen/rejected pairs, no reference model.',
    hangsOnTinyData: true,
  }),
  orpo: info({
    method: 'orpo',
    trainMode: 'orpo',
    family: 'preference',
    title: 'ORPO',
    description: 'Odds-ratio preference optimisation; chosen/rejected with optional preference_score.',
    testBroken: true,
  }),
  grpo: info({
    method: 'grpo',
    trainMode: 'grpo',
    family: 'grpo',
    title: 'GRPO',
    description: 'Group relative policy optimisation with reward functions on prompt/answer records.',
    testBroken: true,
  }),
  gspo: info({
    method: 'gspo',
    trainMode: 'grpo',
    family: 'grpo',
    title: 'GSPO',
    description: 'GRPO with sequence-level importance sampling.',
    fixed: { importance_sampling_level: 'sequence' },
    testBroken: true,
  }),
  dr_grpo: info({
    method: 'dr_grpo',
    trainMode: 'grpo',
    family: 'grpo',
    title: 'Dr. GRPO',
    description: 'GRPO with the Dr. GRPO loss (sum divided by completions x max_completion_length).',
    fixed: { grpo_loss_type: 'dr_grpo' },
    testBroken: true,
  }),
  dapo: info({
    method: 'dapo',
    trainMode: 'grpo',
    family: 'grpo',
    title: 'DAPO',
    description: 'GRPO with asymmetric clip-higher: the ratio is clipped to [1-epsilon, 1+epsilon_high].',
    requires: ['epsilon_high'],
    testBroken: true,
  }),
  online_dpo: info({
    method: 'online_dpo',
    trainMode: 'online_dpo',
    family: 'online',
    title: 'Online DPO',
    description: 'Online DPO: completions generated and judged during training.',
    requires: ['judge'],
    judge: true,
    hangsOnTinyData: true,
  }),
  xpo: info({
    method: 'xpo',
    trainMode: 'xpo',
    family: 'online',
    title: 'XPO',
    description: 'Exploratory preference optimisation with a judge model.',
    requires: ['judge'],
    judge: true,
    hangsOnTinyData: true,
  }),
  rlhf_reinforce: info({
    method: 'rlhf_reinforce',
    trainMode: 'rlhf_reinforce',
    family: 'online',
    title: 'RLHF-REINFORCE',
    description: 'REINFORCE with a KL penalty against a reference model, rewards from a judge.',
    requires: ['judge'],
    judge: true,
    hangsOnTinyData: true,
    testBroken: true,
  }),
  ppo: info({
    method: 'ppo',
    trainMode: 'ppo',
    family: 'online',
    title: 'PPO',
    description: 'Proximal policy optimisation with a judge model.',
    requires: ['judge'],
    judge: true,
    hangsOnTinyData: true,
  }),
  ftpo: info({
    method: 'ftpo',
    trainMode: 'ftpo',
    family: 'ftpo',
    title: 'FTPO',
    description: 'Final-token preference optimisation on Antidoom rows.',
  }),
};

export function isMethod(value: unknown): value is Method {
  return typeof value === 'string' && (METHODS as readonly string[]).includes(value);
}

/** Maps an upstream YAML train_mode plus variant options to the service's method. */
export function methodFromTrainMode(
  trainMode: TrainMode,
  options: { importance_sampling_level?: unknown; grpo_loss_type?: unknown; epsilon_high?: unknown },
): Method {
  if (trainMode !== 'grpo') return trainMode;
  if (options.importance_sampling_level === 'sequence') return 'gspo';
  if (options.grpo_loss_type === 'dr_grpo') return 'dr_grpo';
  if (options.epsilon_high !== undefined && options.epsilon_high !== null) return 'dapo';
  return 'grpo';
}
