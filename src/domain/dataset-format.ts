// Pure rules for mlx-lm-lora dataset records: which format a train mode reads and whether a record fits it.
//
// Upstream (mlx_lm_lora/trainer/datasets.py, create_dataset) picks the format from the FIRST record of a
// split by key presence only; every later record is then read with that format's keys (KeyError or a
// tokenizer TypeError hours into a run). detectFormat mirrors the key-presence choice; checkRecord checks
// keys AND value types, so it is applied to every record, the first one included. Which formats a mode
// reads, and upstream's message when none fits, are in the table of methods (method-table.ts).

import {
  type DatasetFormat,
  type FeatureNames,
  FTPO_KEYS,
  type Keys,
  keysOf,
  quotedKeys,
} from './dataset-keys.js';
import { MODE_TABLE, type TrainMode } from './methods.js';
import { checkByFormat, has } from './record-checks.js';

// One list of train modes serves the whole service.
export { DATASET_FORMATS, type DatasetFormat, type FeatureNames, type QuotedKeys } from './dataset-keys.js';
export { TRAIN_MODES, type TrainMode } from './methods.js';

type Rec = Record<string, unknown>;

/** Upstream's key-presence test for each format, as it picks one from a split's first record. */
const DETECT: Record<DatasetFormat, (r: Rec, k: Keys) => boolean> = {
  'sft:completions': (r, k) => has(r, k.prompt_feature) && has(r, k.completion_feature),
  'sft:chat': (r, k) => has(r, k.chat_feature),
  'sft:text': (r, k) => has(r, k.text_feature),
  preference: (r, k) => has(r, k.chosen_feature) && has(r, k.rejected_feature),
  orpo: (r, k) => has(r, k.chosen_feature) && has(r, k.rejected_feature),
  grpo: (r, k) => has(r, k.prompt_feature),
  prompt: (r, k) => has(r, k.prompt_feature),
  ftpo: (r) => FTPO_KEYS.every((key) => has(r, key)),
};

const OLD_GRPO = 'This looks like the old GRPO format (problem / reasoning_steps / solution)';
const OLD_GRPO_HINT = {
  grpo: `${OLD_GRPO}: use prompt / answer / system instead (problem → prompt, solution → answer).`,
  other: `${OLD_GRPO}, which no mode reads; GRPO now uses prompt / answer / system.`,
};

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

/** The format upstream would choose for a split whose first record is `record`, or upstream's error. */
export function detectFormat(
  mode: TrainMode,
  record: Rec,
  features?: FeatureNames,
): { format: DatasetFormat } | { error: string } {
  const k = keysOf(features);
  const { formats, unsupported, needs } = MODE_TABLE[mode].dataset;
  const format = formats.find((f) => DETECT[f](record, k));
  if (format !== undefined) return { format };
  const message = `${unsupported} (needs ${needs(quotedKeys(k))}; ${keyList(record)})`;
  return { error: withOldGrpoHint(message, record, (formats as readonly string[]).includes('grpo')) };
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
  return structuredClone(MODE_TABLE[mode].dataset.sample);
}
