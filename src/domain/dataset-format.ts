// Pure rules for mlx-lm-lora dataset records: which format a train mode reads and whether a record fits it.
//
// Upstream (mlx_lm_lora/trainer/datasets.py, create_dataset) picks the format from the FIRST record of a
// split by key presence only; every later record is then read with that format's keys (KeyError or a
// tokenizer TypeError hours into a run). detectFormat mirrors the key-presence choice; checkRecord checks
// keys AND value types, so it is applied to every record, the first one included.

import type { TrainMode } from './methods.js';

// One list of train modes serves the whole service.
export { TRAIN_MODES, type TrainMode } from './methods.js';

type FeatureKey =
  | 'text_feature'
  | 'chat_feature'
  | 'prompt_feature'
  | 'completion_feature'
  | 'system_feature'
  | 'chosen_feature'
  | 'rejected_feature'
  | 'preference_score_feature'
  | 'type_feature'
  | 'answer_feature';

/** YAML-only key renames (`*_feature`); an absent entry means upstream's default key name. */
export type FeatureNames = Partial<Record<FeatureKey, string>>;

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

type Rec = Record<string, unknown>;
type Keys = Record<FeatureKey, string>;

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

const FTPO_KEYS = ['context_with_chat_template', 'rejected_decoded', 'multi_chosen_decoded'] as const;

const OLD_GRPO = 'This looks like the old GRPO format (problem / reasoning_steps / solution)';
const OLD_GRPO_HINT = {
  grpo: `${OLD_GRPO}: use prompt / answer / system instead (problem → prompt, solution → answer).`,
  other: `${OLD_GRPO}, which no mode reads; GRPO now uses prompt / answer / system.`,
};

function keysOf(features?: FeatureNames): Keys {
  return features ? { ...DEFAULT_KEYS, ...stripUndefined(features) } : DEFAULT_KEYS;
}

function stripUndefined(features: FeatureNames): FeatureNames {
  return Object.fromEntries(Object.entries(features).filter(([, v]) => typeof v === 'string' && v !== ''));
}

const has = (r: Rec, key: string): boolean => Object.hasOwn(r, key);

function withOldGrpoHint(message: string, r: Rec, grpo: boolean): string {
  const old = has(r, 'problem') || has(r, 'solution') || has(r, 'reasoning_steps');
  return old ? `${message} ${grpo ? OLD_GRPO_HINT.grpo : OLD_GRPO_HINT.other}` : message;
}

function keyList(r: Rec): string {
  const keys = Object.keys(r);
  if (keys.length === 0) return 'the record has no keys';
  const shown = keys.slice(0, 8).join(', ');
  return `the record has keys: ${shown}${keys.length > 8 ? ', …' : ''}`;
}

function unsupported(upstream: string, needs: string, r: Rec, grpo = false): { error: string } {
  return { error: withOldGrpoHint(`${upstream} (needs ${needs}; ${keyList(r)})`, r, grpo) };
}

/** The format upstream would choose for a split whose first record is `record`, or upstream's error. */
export function detectFormat(
  mode: TrainMode,
  record: Rec,
  features?: FeatureNames,
): { format: DatasetFormat } | { error: string } {
  const k = keysOf(features);
  const q = (key: string): string => `"${key}"`;
  switch (mode) {
    case 'sft':
      if (has(record, k.prompt_feature) && has(record, k.completion_feature))
        return { format: 'sft:completions' };
      if (has(record, k.chat_feature)) return { format: 'sft:chat' };
      if (has(record, k.text_feature)) return { format: 'sft:text' };
      return unsupported(
        'Unsupported data format for SFT training.',
        `${q(k.prompt_feature)} + ${q(k.completion_feature)}, ${q(k.chat_feature)}, or ${q(k.text_feature)}`,
        record,
      );
    case 'dpo':
    case 'cpo':
      if (has(record, k.chosen_feature) && has(record, k.rejected_feature)) return { format: 'preference' };
      return unsupported(
        'Unsupported data format for Online DPO or CPO training.',
        `${q(k.prompt_feature)}, ${q(k.chosen_feature)} and ${q(k.rejected_feature)}`,
        record,
      );
    case 'orpo':
      if (has(record, k.chosen_feature) && has(record, k.rejected_feature)) return { format: 'orpo' };
      return unsupported(
        'Unsupported data format for ORPO training.',
        `${q(k.chosen_feature)} and ${q(k.rejected_feature)}`,
        record,
      );
    case 'grpo':
      if (has(record, k.prompt_feature)) return { format: 'grpo' };
      return unsupported(
        'Unsupported data format for Online GRPO training.',
        `${q(k.prompt_feature)} and ${q(k.answer_feature)}`,
        record,
        true,
      );
    case 'online_dpo':
    case 'xpo':
    case 'rlhf_reinforce':
    case 'ppo':
      if (has(record, k.prompt_feature)) return { format: 'prompt' };
      return unsupported('Unsupported data format for RLHF training.', q(k.prompt_feature), record);
    case 'ftpo':
      if (FTPO_KEYS.every((key) => has(record, key))) return { format: 'ftpo' };
      return unsupported('Unsupported data format for FTPO training.', FTPO_KEYS.map(q).join(', '), record);
    default:
      return assertNever(mode);
  }
}

function assertNever(value: never): never {
  throw new Error(`unknown train mode ${String(value)}`);
}

// ---- value checks: each returns null when fine, else a message naming the key ----

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'empty list' : 'list';
  if (typeof v === 'string' && v === '') return 'empty string';
  return typeof v === 'object' ? 'object' : typeof v;
}

const isObject = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

function requireString(r: Rec, key: string, opts: { nonEmpty?: string } = {}): string | null {
  if (!has(r, key)) return `missing key "${key}"`;
  const v = r[key];
  if (typeof v !== 'string') return `"${key}" must be a string (got ${kind(v)})`;
  if (opts.nonEmpty !== undefined && v === '') return `"${key}" must not be empty (${opts.nonEmpty})`;
  return null;
}

function optionalString(r: Rec, key: string): string | null {
  return has(r, key) && typeof r[key] !== 'string' ? `"${key}" must be a string (got ${kind(r[key])})` : null;
}

/** A chat message: string role and content; content may be null/absent only next to tool_calls. */
function checkMessage(m: unknown, path: string): string | null {
  if (!isObject(m)) return `"${path}" must be a {role, content} object (got ${kind(m)})`;
  if (typeof m.role !== 'string') return `"${path}.role" must be a string (got ${kind(m.role)})`;
  const toolCall = has(m, 'tool_calls') && (m.content === undefined || m.content === null);
  if (typeof m.content !== 'string' && !toolCall) {
    return `"${path}.content" must be a string (got ${m.content === undefined ? 'no content key' : kind(m.content)})`;
  }
  return null;
}

function checkMessages(v: unknown, key: string): string | null {
  if (!Array.isArray(v) || v.length === 0) {
    return `"${key}" must be a non-empty list of {role, content} objects (got ${kind(v)})`;
  }
  for (let i = 0; i < v.length; i++) {
    const problem = checkMessage(v[i], `${key}[${i}]`);
    if (problem) return problem;
  }
  return null;
}

function requireMessages(r: Rec, key: string): string | null {
  return has(r, key) ? checkMessages(r[key], key) : `missing key "${key}"`;
}

/** ORPO chosen/rejected: a string, {messages: [...]}, {content: "..."}, or a list of messages. */
function checkOrpoAnswer(r: Rec, key: string): string | null {
  if (!has(r, key)) return `missing key "${key}"`;
  const v = r[key];
  if (typeof v === 'string') return null;
  if (Array.isArray(v)) return checkMessages(v, key);
  if (isObject(v)) {
    if (has(v, 'messages')) return checkMessages(v.messages, `${key}.messages`);
    if (typeof v.content === 'string') return null;
    return `"${key}" object must have "messages" (a list) or "content" (a string); upstream silently uses ""`;
  }
  return `"${key}" must be a string, a list of {role, content} objects, or an object with "messages" or "content" (got ${kind(v)})`;
}

function checkFtpo(r: Rec): string | null {
  const dropped = 'upstream drops the row silently';
  const problem =
    requireString(r, 'context_with_chat_template', { nonEmpty: dropped }) ??
    requireString(r, 'rejected_decoded', { nonEmpty: dropped });
  if (problem) return problem;
  if (!has(r, 'multi_chosen_decoded')) return 'missing key "multi_chosen_decoded"';
  const chosen = r.multi_chosen_decoded;
  if (!Array.isArray(chosen) || chosen.length === 0) {
    return `"multi_chosen_decoded" must be a non-empty list of strings (got ${kind(chosen)}); ${dropped}`;
  }
  const bad = chosen.findIndex((c) => typeof c !== 'string');
  return bad === -1
    ? null
    : `"multi_chosen_decoded" must be a list of strings (item ${bad} is ${kind(chosen[bad])})`;
}

function checkGrpo(r: Rec, k: Keys): string | null {
  const problem = requireString(r, k.prompt_feature);
  if (problem) return problem;
  if (!has(r, k.answer_feature)) return `missing key "${k.answer_feature}"`;
  const answer = r[k.answer_feature];
  // Upstream applies str(); numeric answers are common in maths sets and compare fine as text.
  if (typeof answer !== 'string' && !(typeof answer === 'number' && Number.isFinite(answer))) {
    return `"${k.answer_feature}" must be a string or a number (got ${kind(answer)})`;
  }
  return optionalString(r, k.system_feature);
}

function checkOrpo(r: Rec, k: Keys): string | null {
  const prompt = has(r, k.prompt_feature)
    ? optionalString(r, k.prompt_feature)
    : optionalString(r, 'question');
  const problem =
    prompt ??
    checkOrpoAnswer(r, k.chosen_feature) ??
    checkOrpoAnswer(r, k.rejected_feature) ??
    optionalString(r, k.system_feature);
  if (problem) return problem;
  const score = r[k.preference_score_feature];
  if (has(r, k.preference_score_feature) && !(typeof score === 'number' && Number.isFinite(score))) {
    return `"${k.preference_score_feature}" must be a number (got ${kind(score)})`;
  }
  return null;
}

function checkPrompt(r: Rec, k: Keys): string | null {
  const key = k.prompt_feature;
  if (!has(r, key)) return `missing key "${key}"`;
  const v = r[key];
  if (typeof v === 'string') return null;
  if (Array.isArray(v)) return checkMessages(v, key);
  return `"${key}" must be a string or a non-empty list of {role, content} objects (got ${kind(v)})`;
}

function checkChat(r: Rec, k: Keys): string | null {
  const problem = requireMessages(r, k.chat_feature);
  if (problem) return problem;
  const tools = r.tools;
  const toolsOk = tools === undefined || tools === null || (Array.isArray(tools) && tools.every(isObject));
  return toolsOk ? null : `"tools" must be a list of objects (got ${kind(tools)})`;
}

function checkByFormat(format: string, r: Rec, k: Keys): string | null {
  switch (format as DatasetFormat) {
    case 'sft:completions':
      return requireString(r, k.prompt_feature) ?? requireString(r, k.completion_feature);
    case 'sft:chat':
      return checkChat(r, k);
    case 'sft:text':
      return requireString(r, k.text_feature);
    case 'preference':
      return (
        requireString(r, k.prompt_feature) ??
        requireString(r, k.chosen_feature) ??
        requireString(r, k.rejected_feature) ??
        optionalString(r, k.system_feature)
      );
    case 'orpo':
      return checkOrpo(r, k);
    case 'grpo':
      return checkGrpo(r, k);
    case 'prompt':
      return checkPrompt(r, k);
    case 'ftpo':
      return checkFtpo(r);
    default:
      return `unknown dataset format "${format}"`;
  }
}

/** null if `record` is a usable record of `format`, else one message naming the key and what is wrong. */
export function checkRecord(format: string, record: Rec, features?: FeatureNames): string | null {
  const problem = checkByFormat(format, record, keysOf(features));
  return problem?.startsWith('missing key') ? withOldGrpoHint(problem, record, format === 'grpo') : problem;
}

/**
 * checkRecord for a record after the first one. When the record fails `format` but is a valid record of
 * another format of the same mode (sft mixes), say so: upstream still reads it with the first format.
 */
export function checkFollowingRecord(
  mode: TrainMode,
  format: string,
  record: Rec,
  features?: FeatureNames,
  reference = 'the first record',
): string | null {
  const problem = checkRecord(format, record, features);
  if (problem === null) return null;
  const own = detectFormat(mode, record, features);
  if ('format' in own && own.format !== format && checkRecord(own.format, record, features) === null) {
    return `record format differs from ${reference} (${format}): this record is ${own.format} (${problem})`;
  }
  return problem;
}

/** A minimal valid record per mode (shown by GET /v1/methods). A fresh object on every call. */
export function sampleRecord(mode: TrainMode): Rec {
  switch (mode) {
    case 'sft':
      return { prompt: 'What is 2+2?', completion: '4' };
    case 'dpo':
    case 'cpo':
      return {
        prompt: 'Explain AI in one sentence.',
        chosen: 'AI is software that learns patterns from data to make predictions or decisions.',
        rejected: 'AI is magic.',
      };
    case 'orpo':
      return {
        prompt: 'What is AI?',
        chosen: 'Software that learns from data.',
        rejected: 'A robot.',
        preference_score: 0.8,
      };
    case 'grpo':
      return { prompt: 'Solve 2+2', answer: '4' };
    case 'online_dpo':
    case 'xpo':
    case 'rlhf_reinforce':
    case 'ppo':
      return { prompt: 'Write a haiku about autumn.' };
    case 'ftpo':
      return {
        context_with_chat_template:
          '<|im_start|>user\nDescribe the sea.<|im_end|>\n<|im_start|>assistant\nThe sea is',
        rejected_decoded: ' very',
        multi_chosen_decoded: [' quite', ' rather'],
      };
    default:
      return assertNever(mode);
  }
}
