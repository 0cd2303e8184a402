// The shape of an entry in the table of methods (method-table.ts): the facts every train mode and variant must give.
import type { DatasetFormat, QuotedKeys } from './dataset-keys.js';
import type { MethodOptionKey } from './method-options.js';
import type { TrainMode } from './method-table.js';
import type { MetricInfo } from './metric-catalogue.js';
import type { MetricSplit } from './metric-point.js';

export const METHOD_FAMILIES = ['sft', 'preference', 'grpo', 'online', 'ftpo'] as const;
export type MethodFamily = (typeof METHOD_FAMILIES)[number];

/** How the trainer prints its train reports for a mode (trainer-output.ts parses them all). */
export type OutputDialect =
  | 'lora-line' // `Iter N: loss …, lr …, it/s …, tok/s …, trained_tok …, peak_mem …GB`
  | 'preference-line' // `Iter N: loss …, chosen_r …, rejected_r …, acc …, margin …, …`
  | 'online-line' // `Iter N: Train loss …, Accuracy …, Margin …, Learning Rate …, …`
  | 'rlhf-line' // `Iter N: Train loss …, Rewards …, KL penalty …, …`
  | 'grpo-block' // an 80-"=" block of `Loss:`, `Total Rewards:`, per-function rewards, …
  | 'ftpo-line'; // `Iter N: loss …, chosen_win …, margin_win …, it/s …`

/** What upstream does when a split has fewer rows than batch_size. */
export type TinyData =
  | { behaviour: 'hangs' }
  | { behaviour: 'raises'; problem: (file: string, rows: number, batchSize: number) => string };

export interface ModeEntry {
  title: string;
  description: string;
  family: MethodFamily;
  /** Options beyond the common ones (and beyond what judge, reference and generates imply). */
  options: readonly MethodOptionKey[];
  /** Needs a judge model: `judge` is required (and `judge_config` applies), its weights count towards memory. */
  judge: boolean;
  /** Loads a reference copy of the weights; `reference_model_path` applies. */
  reference: boolean;
  /** Generates completions while training; `max_completion_length` applies, and the KV cache counts. */
  generates: boolean;
  /** Sequences per example in a batch: chosen + rejected, or GRPO's group_size completions per prompt. */
  sequencesPerExample: 1 | 2 | 'group_size';
  dataset: {
    /** The formats upstream picks from, in its order (by the keys of a split's first record). */
    formats: readonly DatasetFormat[];
    /** Upstream's message when the first record fits none, and the keys it needs (as renamed by *_feature). */
    unsupported: string;
    needs: (k: QuotedKeys) => string;
    /** A minimal valid record (GET /v1/methods). */
    sample: Readonly<Record<string, unknown>>;
  };
  tinyData: TinyData;
  /** `--test` after training: works, or crashes upstream (mlx-lm-lora 3.1.2) with this error. */
  test: 'works' | { crashes: string };
  output: OutputDialect;
  /** The metrics the mode reports, in the catalogue's order. */
  metrics: readonly MetricInfo[];
  /** What a sweep's `reward` metric means for the mode; null when it reports none. */
  reward: { name: string; split: MetricSplit } | null;
}

export interface VariantEntry {
  of: TrainMode;
  title: string;
  description: string;
  /** Options the variant fixes; a request that sets them otherwise is refused. YAML maps them back to it. */
  fixed?: Readonly<Record<string, string>>;
  /** Options it cannot run without; YAML with them set maps back to it. */
  requires?: readonly MethodOptionKey[];
  /** A rule between its options, or null when they are fine. */
  check?: (r: Readonly<Record<string, unknown>>) => { path: string; message: string } | null;
}
