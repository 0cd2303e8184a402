// One split file of a dataset checked record by record against the train file's format, and the problem list
// (file-level problems all kept, line problems capped) that the dataset validator fills.
import type { DatasetFormat, FeatureNames, TrainMode } from '../domain/dataset-format.js';
import { checkFollowingRecord, checkRecord, detectFormat } from '../domain/dataset-format.js';
import type { SequenceLengthTracker } from '../domain/sequence-length.js';
import { JsonlLineChecker } from './jsonl-lines.js';
import type { DatasetProblem } from './validate-dataset.js';

const FILE_ORDER = ['.', 'train.jsonl', 'valid.jsonl', 'test.jsonl'];

/** Collects problems: file-level ones all kept, line ones capped at maxProblems while counting continues. */
export class ProblemSink {
  readonly fileLevel: DatasetProblem[] = [];
  readonly lines: DatasetProblem[] = [];
  total = 0;
  ioError = false;
  constructor(private readonly max: number) {}

  add(file: string, line: number | null, message: string): void {
    this.total++;
    if (line === null) this.fileLevel.push({ file, line, message });
    else if (this.lines.length < this.max) this.lines.push({ file, line, message });
  }

  /** File order, file-level before line problems, then by line; capped at maxProblems. */
  list(): DatasetProblem[] {
    const rank = (p: DatasetProblem): number => FILE_ORDER.indexOf(p.file);
    const all = [...this.fileLevel, ...this.lines].sort(
      (a, b) => rank(a) - rank(b) || (a.line ?? 0) - (b.line ?? 0),
    );
    return all.slice(0, this.max);
  }
}

export interface SplitContext {
  file: string;
  mode: TrainMode;
  features: FeatureNames | undefined;
  /** The train file's format; null while unknown (train has no usable first record). */
  reference: string | null;
  sink: ProblemSink;
  /** Measures the sequence lengths of well-formed records (train and valid) for the memory estimate. */
  lengths?: SequenceLengthTracker;
}

/** Checks one split file line by line, and each record against the train file's format. */
export class SplitChecker extends JsonlLineChecker {
  format: string | null = null;
  private seenRecord = false;

  constructor(private readonly ctx: SplitContext) {
    super();
  }

  protected problem(message: string): void {
    this.ctx.sink.add(this.ctx.file, this.lineNo, message);
  }

  protected record(rec: Record<string, unknown>): void {
    const { mode, features, reference } = this.ctx;
    const first = !this.seenRecord;
    if (first) {
      this.seenRecord = true;
      const detected = reference === null ? detectFormat(mode, rec, features) : { format: reference };
      if ('error' in detected) {
        this.problem(detected.error);
        return;
      }
      this.format = detected.format;
    }
    if (this.format === null) return; // the first record's format error is reported once
    const problem =
      reference === null
        ? first
          ? checkRecord(this.format, rec, features)
          : checkFollowingRecord(mode, this.format, rec, features)
        : checkFollowingRecord(mode, this.format, rec, features, 'the first record of train.jsonl');
    if (problem !== null) this.problem(problem);
    else
      this.ctx.lengths?.add(this.format as DatasetFormat, rec, {
        chosen: features?.chosen_feature ?? 'chosen',
        rejected: features?.rejected_feature ?? 'rejected',
      });
  }
}
