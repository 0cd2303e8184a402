// The memory parts of the answers: the estimate against the workers (dry run, run), an out-of-memory end, the
// dataset's sequence lengths, and the changes that would fit. Keys are snake_case like the request they describe.
import { z } from 'zod';

const Gb = z.number();

export const MemoryBreakdown = z.strictObject({
  weights: Gb,
  reference: Gb,
  judge: Gb,
  lora: Gb,
  activations: Gb,
  logits: Gb,
  attention: Gb,
  overhead: Gb,
});

export const RunMemory = z.strictObject({
  estimate_gb: Gb.nullable(),
  breakdown: MemoryBreakdown.nullable(),
  basis: z
    .strictObject({
      family: z.string(),
      sequences: z.number(),
      seqLength: z.number(),
      lengthFrom: z.enum(['dataset', 'max_seq_length']),
      adaptedLayers: z.number(),
      expectedError: z.number(),
    })
    .nullable(),
  notes: z.array(z.string()),
  reason: z.string().nullable(),
  usable_gb_by_worker: z.record(z.string(), Gb),
  margin: z.number(),
  fits: z.boolean().nullable(),
  fit: z.enum(['fits', 'tight', 'no', 'unknown']),
  largest_worker: z.strictObject({ worker: z.string(), usable_gb: Gb }).nullable(),
});
export type RunMemory = z.infer<typeof RunMemory>;

/** A change of the request that lowers the estimate, and whether it then fits. */
export const MemorySuggestion = z.strictObject({
  change: z.record(z.string(), z.unknown()),
  estimateGb: Gb,
  fits: z.boolean(),
  why: z.string(),
});

/** The dry run's memory: the estimate plus the changes that would fit. */
export const DryRunMemory = RunMemory.extend({ suggestions: z.array(MemorySuggestion) });

export const OutOfMemory = z.strictObject({
  peak_gb: Gb.nullable(),
  estimate_gb: Gb.nullable(),
  message: z.string(),
  advice: z.array(z.string()),
  reductions: z.array(
    z.strictObject({
      attempt: z.number().int(),
      step: z.number().int(),
      change: z.record(z.string(), z.unknown()),
      why: z.string(),
    }),
  ),
  original: z.record(z.string(), z.unknown()),
});
export type OutOfMemory = z.infer<typeof OutOfMemory>;

/** The longest train/valid sequence (for the memory estimate); tokens estimated from bytes. */
export const SequenceLengths = z.strictObject({
  rows: z.number().int(),
  longestBytes: z.number().int(),
  meanBytes: z.number(),
  longestTokensEstimate: z.number().int(),
  basis: z.string(),
});

/** GET /v1/memory/calibration: the estimate against measured peaks, per method and model family. */
export const MemoryCalibration = z.strictObject({
  expectedError: z.number(),
  /** MEMORY_MARGIN: the margin of groups with too few measured runs. */
  margin: z.number(),
  /** MEMORY_TUNE_AFTER_RUNS: measured runs a group needs before its margin is tuned (0: never). */
  tuneAfterRuns: z.number().int(),
  groups: z.array(
    z.strictObject({
      method: z.string(),
      family: z.string(),
      runs: z.number().int(),
      meanRatio: z.number(),
      meanAbsError: z.number(),
      maxRatio: z.number(),
      withinExpectedError: z.number(),
      /** The margin admission uses for this method and family now (tuned once enough runs are measured). */
      margin: z.number(),
      marginSource: z.string(),
    }),
  ),
});
export type MemoryCalibration = z.infer<typeof MemoryCalibration>;
