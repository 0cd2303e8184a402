// The answers of the dataset routes: a validation report, an uploaded dataset, the list.
import { z } from 'zod';

import { TRAIN_MODES } from '../domain/methods.js';
import { FileIssue, IsoTime } from './common.js';
import { SequenceLengths } from './memory.js';

export const SplitReport = z.strictObject({
  file: z.string(),
  present: z.boolean(),
  rows: z.number().int(),
  bytes: z.number().int(),
});

/** What the dataset check found: per split rows and bytes, and every problem with file and line. */
export type SplitReport = z.infer<typeof SplitReport>;
export { FileIssue };

export const DatasetReport = z.strictObject({
  ok: z.boolean(),
  dir: z.string(),
  mode: z.enum(TRAIN_MODES),
  format: z.string().nullable(),
  splits: z.strictObject({ train: SplitReport, valid: SplitReport, test: SplitReport }),
  problems: z.array(FileIssue),
  problemsTruncated: z.boolean(),
  totalProblems: z.number().int(),
  /** The longest train/valid sequence (for the memory estimate); null without rows. */
  lengths: SequenceLengths.nullable(),
});
export type DatasetReport = z.infer<typeof DatasetReport>;

/** POST /v1/datasets/validate answers 422 with the error code and message beside the report's own fields. */
export const InvalidDatasetReport = DatasetReport.extend({ error: z.string(), message: z.string() });

/** An uploaded dataset; a run uses it with `"data": "<id>"`. */
export const DatasetView = z.strictObject({
  id: z.string(),
  sha256: z.string(),
  name: z.string().nullable(),
  files: z.array(z.string()),
  rows: z.record(z.string(), z.number().int()),
  bytes: z.number().int(),
  createdAt: IsoTime,
});
export type DatasetView = z.infer<typeof DatasetView>;

/** POST /v1/datasets: 201 when stored, 200 when the same content was already there (deduplicated). */
export const UploadedDataset = DatasetView.extend({ deduplicated: z.boolean() });
export type UploadedDataset = z.infer<typeof UploadedDataset>;

export const DatasetList = z.strictObject({ items: z.array(DatasetView) });
export type DatasetList = z.infer<typeof DatasetList>;
