// The names of mlx-lm-lora dataset records: the formats, the keys each reads and their YAML renames (no rules here).

export const DATASET_FORMATS = [
  'sft:completions',
  'sft:chat',
  'sft:text',
  'preference',
  'orpo',
  'grpo',
  'prompt',
  'ftpo',
] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** Record fields a YAML `<field>_feature` key can rename. */
export type Feature =
  | 'text'
  | 'chat'
  | 'prompt'
  | 'completion'
  | 'system'
  | 'chosen'
  | 'rejected'
  | 'preference_score'
  | 'type'
  | 'answer';
export type FeatureKey = `${Feature}_feature`;

/** YAML-only key renames (`*_feature`); an absent entry means upstream's default key name. */
export type FeatureNames = Partial<Record<FeatureKey, string>>;

/** The key each field is read from. */
export type Keys = Record<FeatureKey, string>;
/** Each field's key, in double quotes, for messages. */
export type QuotedKeys = Record<Feature, string>;

const DEFAULT_KEYS: Keys = {
  text_feature: 'text',
  chat_feature: 'messages',
  prompt_feature: 'prompt',
  completion_feature: 'completion',
  system_feature: 'system',
  chosen_feature: 'chosen',
  rejected_feature: 'rejected',
  preference_score_feature: 'preference_score',
  type_feature: 'type',
  answer_feature: 'answer',
};

/** FTPO's keys cannot be renamed. */
export const FTPO_KEYS = ['context_with_chat_template', 'rejected_decoded', 'multi_chosen_decoded'] as const;

export function keysOf(features?: FeatureNames): Keys {
  return features ? { ...DEFAULT_KEYS, ...stripUndefined(features) } : DEFAULT_KEYS;
}

function stripUndefined(features: FeatureNames): FeatureNames {
  return Object.fromEntries(Object.entries(features).filter(([, v]) => typeof v === 'string' && v !== ''));
}

export function quotedKeys(k: Keys): QuotedKeys {
  return Object.fromEntries(
    Object.entries(k).map(([key, name]) => [key.slice(0, -'_feature'.length), `"${name}"`]),
  ) as QuotedKeys;
}
