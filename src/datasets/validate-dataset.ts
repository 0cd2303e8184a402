// Validates a local mlx-lm-lora dataset directory before a run is enqueued: streams each split file in
// constant memory, reports every problem with file and line, and caches reports of unchanged datasets.
//
// Upstream reads each present split with `[json.loads(l) for l in open(path)]` (all three splits, even
// without --test), so one bad line anywhere fails the run, possibly after hours in the queue.

import { realpathSync, type Stats, statSync } from 'node:fs';
import path from 'node:path';

import type { DatasetReport, SplitReport } from '../contract/datasets.js';
import type { FeatureNames, TrainMode } from '../domain/dataset-format.js';
import { tinyDataProblem } from '../domain/methods.js';
import { type SequenceLengths, SequenceLengthTracker } from '../domain/sequence-length.js';
import { JsonlLineSplitter, readJsonlFile } from './jsonl-lines.js';
import { ProblemSink, SplitChecker } from './split-checker.js';

/** The report's shape is the one the API answers with (src/contract/datasets.ts). */
export type { FileIssue as DatasetProblem, DatasetReport, SplitReport } from '../contract/datasets.js';

export interface ValidateOptions {
  dir: string;
  mode: TrainMode;
  batchSize: number;
  features?: FeatureNames;
  needTest?: boolean;
  maxProblems?: number;
}

export interface DatasetValidator {
  validate(opts: ValidateOptions): Promise<DatasetReport>;
}

type Split = 'train' | 'valid' | 'test';
const SPLITS: readonly Split[] = ['train', 'valid', 'test'];

/** Stats, null when absent, or the error (e.g. EACCES) that keeps us from knowing. */
type FileStat = Stats | null | Error;

// Synchronous, like resolveDir's calls: a cache hit is only these, and each promise form cost ~30 µs of CPU and a
// thread-pool round trip against a few µs (bench: submit breakdown).
function statFile(file: string): FileStat {
  try {
    return statSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return err instanceof Error ? err : new Error(String(err));
  }
}

interface Job {
  opts: ValidateOptions;
  realDir: string;
  stats: Record<Split, FileStat>;
  maxProblems: number;
}

function missingProblem(split: Split, file: string, present: boolean): string | null {
  if (split === 'train') {
    return `${file} ${present ? 'is empty' : 'not found'}: upstream raises 'Training set not found or empty. Must provide training set for fine-tuning.'`;
  }
  if (split === 'test') {
    return `${file} ${present ? 'is empty' : 'not found'}: upstream raises 'Test set not found or empty. Must provide test set for evaluation.'`;
  }
  return null;
}

/** Reports what stops a split from being read (absent, not a file, stat error); false when readable. */
function unreadable(job: Job, split: Split, st: FileStat, sink: ProblemSink): boolean {
  const file = `${split}.jsonl`;
  if (st === null) {
    const required = split === 'train' || (split === 'test' && job.opts.needTest === true);
    const message = required ? missingProblem(split, file, false) : null;
    if (message) sink.add(file, null, message);
  } else if (st instanceof Error) {
    sink.ioError = true;
    sink.add(file, null, `${file} could not be inspected: ${st.message}`);
  } else if (!st.isFile()) {
    sink.add(file, null, `${file} is not a regular file: upstream's open() fails on it`);
  } else {
    return false;
  }
  return true;
}

async function checkSplit(
  job: Job,
  split: Split,
  reference: string | null,
  sink: ProblemSink,
  lengths?: SequenceLengthTracker,
): Promise<{ report: SplitReport; format: string | null }> {
  const file = `${split}.jsonl`;
  const st = job.stats[split];
  const report: SplitReport = { file, present: st !== null, rows: 0, bytes: 0 };
  if (unreadable(job, split, st, sink)) return { report, format: null };
  const { mode, features, batchSize } = job.opts;
  const checker = new SplitChecker({ file, mode, features, reference, sink, lengths });
  try {
    report.bytes = await readJsonlFile(path.join(job.realDir, file), new JsonlLineSplitter(checker));
  } catch (err) {
    sink.ioError = true;
    sink.add(file, null, `${file} could not be read: ${err instanceof Error ? err.message : String(err)}`);
    return { report, format: null };
  }
  report.rows = checker.rows;
  if (report.bytes === 0) {
    // An existing empty file is not "missing": upstream indexes data[0] of every present split.
    const message =
      missingProblem(split, file, true) ??
      `${file} exists but is empty: upstream raises IndexError on its first record; delete it or add rows`;
    sink.add(file, null, message);
  } else if ((split === 'train' || (split === 'valid' && report.rows > 0)) && report.rows < batchSize) {
    sink.add(file, null, tinyDataProblem(mode, file, report.rows, batchSize));
  }
  return { report, format: checker.format };
}

async function runValidation(job: Job): Promise<{ report: DatasetReport; cacheable: boolean }> {
  const sink = new ProblemSink(job.maxProblems);
  const lengths = new SequenceLengthTracker();
  const train = await checkSplit(job, 'train', null, sink, lengths);
  const valid = await checkSplit(job, 'valid', train.format, sink, lengths);
  const test = await checkSplit(job, 'test', train.format, sink);
  const splits = { train: train.report, valid: valid.report, test: test.report };
  const report = buildReport(job.opts, sink, train.format, splits, lengths.result());
  return { report, cacheable: !sink.ioError };
}

function buildReport(
  opts: ValidateOptions,
  sink: ProblemSink,
  format: string | null,
  splits: DatasetReport['splits'],
  lengths: SequenceLengths | null = null,
): DatasetReport {
  const problems = sink.list();
  return {
    ok: sink.total === 0,
    dir: opts.dir,
    mode: opts.mode,
    format,
    splits,
    problems,
    problemsTruncated: sink.total > problems.length,
    totalProblems: sink.total,
    lengths,
  };
}

function emptySplits(): DatasetReport['splits'] {
  const absent = (split: Split): SplitReport => ({
    file: `${split}.jsonl`,
    present: false,
    rows: 0,
    bytes: 0,
  });
  return { train: absent('train'), valid: absent('valid'), test: absent('test') };
}

/** The real path of the dataset directory, or a report for one that is missing or not a directory. */
async function resolveDir(
  opts: ValidateOptions,
  maxProblems: number,
): Promise<{ realDir: string } | { report: DatasetReport }> {
  const sink = new ProblemSink(maxProblems);
  try {
    const realDir = realpathSync.native(opts.dir);
    if (statSync(realDir).isDirectory()) return { realDir };
    sink.add(
      '.',
      null,
      `dataset path ${opts.dir} is not a directory: upstream reads train.jsonl, valid.jsonl and test.jsonl from a directory`,
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`;
    sink.add(
      '.',
      null,
      `dataset directory ${opts.dir} ${why}: upstream would treat a mistyped local path as a Hugging Face dataset id and look it up over the network`,
    );
  }
  return { report: buildReport(opts, sink, null, emptySplits()) };
}

function cacheKey(job: Job): string {
  const { mode, batchSize, features, needTest } = job.opts;
  const sortedFeatures = Object.entries(features ?? {})
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const files = SPLITS.map((s) => {
    const st = job.stats[s];
    if (st === null || st instanceof Error) return st === null ? null : 'error';
    return [st.size, st.mtimeMs, st.ino, st.isFile()];
  });
  return JSON.stringify([
    job.realDir,
    mode,
    batchSize,
    sortedFeatures,
    needTest === true,
    job.maxProblems,
    files,
  ]);
}

/** A validator with an LRU cache keyed by the realpath, each split's size/mtime/inode and the options. */
export function createDatasetValidator(opts: { cacheEntries?: number } = {}): DatasetValidator {
  const capacity = opts.cacheEntries ?? 256;
  // Promises are cached so concurrent validations of one dataset read it once. Map order is LRU order.
  const cache = new Map<string, Promise<DatasetReport>>();

  function remember(
    key: string,
    pending: Promise<{ report: DatasetReport; cacheable: boolean }>,
  ): Promise<DatasetReport> {
    const report = pending.then((r) => {
      if (!r.cacheable) cache.delete(key);
      return r.report;
    });
    if (capacity <= 0) return report;
    cache.set(key, report);
    report.catch(() => cache.delete(key)); // a failed read is retried next time; the caller sees the error
    while (cache.size > capacity) {
      const oldest = cache.keys().next().value;
      if (oldest === undefined) break;
      cache.delete(oldest);
    }
    return report;
  }

  async function validate(options: ValidateOptions): Promise<DatasetReport> {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${options.batchSize}`);
    }
    const maxProblems = options.maxProblems ?? 50;
    const dir = await resolveDir(options, maxProblems);
    if ('report' in dir) return dir.report;
    const stats: Record<Split, FileStat> = { train: null, valid: null, test: null };
    for (const split of SPLITS) stats[split] = statFile(path.join(dir.realDir, `${split}.jsonl`));
    const job: Job = { opts: options, realDir: dir.realDir, stats, maxProblems };
    const key = cacheKey(job);
    let pending = cache.get(key);
    if (pending !== undefined) {
      cache.delete(key);
      cache.set(key, pending);
    } else {
      pending = remember(key, runValidation(job));
    }
    // Callers may mutate what they get; the cached copy stays intact. dir is the caller's spelling.
    return { ...structuredClone(await pending), dir: options.dir };
  }

  return { validate };
}
