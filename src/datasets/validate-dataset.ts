// Validates a local mlx-lm-lora dataset directory before a run is enqueued: streams each split file in
// constant memory, reports every problem with file and line, and caches reports of unchanged datasets.
//
// Upstream reads each present split with `[json.loads(l) for l in open(path)]` (all three splits, even
// without --test), so one bad line anywhere fails the run, possibly after hours in the queue.

import { isUtf8 } from 'node:buffer';
import { realpathSync, type Stats, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';

import { checkFollowingRecord, checkRecord, detectFormat } from '../domain/dataset-format.js';
import type { DatasetFormat, FeatureNames, TrainMode } from '../domain/dataset-format.js';
import { SequenceLengthTracker, type SequenceLengths } from '../domain/sequence-length.js';

export interface SplitReport {
  file: string;
  present: boolean;
  rows: number;
  bytes: number;
}

export interface DatasetProblem {
  file: string;
  line: number | null;
  message: string;
}

export interface DatasetReport {
  ok: boolean;
  dir: string;
  mode: TrainMode;
  format: string | null;
  splits: { train: SplitReport; valid: SplitReport; test: SplitReport };
  /** File like 'train.jsonl' (or '.' for the directory), 1-based line, null for file-level problems. */
  problems: DatasetProblem[];
  /** True when more than maxProblems were found; totalProblems still counts them all. */
  problemsTruncated: boolean;
  totalProblems: number;
  /** The longest train/valid sequence (for the memory estimate); tokens estimated from bytes. Null without rows. */
  lengths: SequenceLengths | null;
}

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
const FILE_ORDER = ['.', 'train.jsonl', 'valid.jsonl', 'test.jsonl'];

const READ_CHUNK_BYTES = 1024 * 1024;
/** Longer lines are skipped (and reported) so memory stays bounded; no fine-tuning record is this long. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
/** Modes whose batch iterator raises on too few rows; the others yield no batches and hang forever. */
const RAISING_MODES: ReadonlySet<TrainMode> = new Set(['sft', 'grpo', 'orpo', 'ftpo']);

/** Collects problems: file-level ones all kept, line ones capped at maxProblems while counting continues. */
class ProblemSink {
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

interface SplitContext {
  file: string;
  mode: TrainMode;
  features: FeatureNames | undefined;
  /** The train file's format; null while unknown (train has no usable first record). */
  reference: string | null;
  sink: ProblemSink;
  /** Measures sequence lengths of well-formed records (train and valid only). */
  lengths: SequenceLengthTracker | null;
}

/** Checks one split file line by line; fed raw line bytes by a LineSplitter. */
class SplitChecker {
  lineNo = 0;
  rows = 0;
  format: string | null = null;
  private seenRecord = false;

  constructor(private readonly ctx: SplitContext) {}

  private problem(message: string): void {
    this.ctx.sink.add(this.ctx.file, this.lineNo, message);
  }

  /** `mayHaveCR`: the bytes around this line contain a '\r' (rare), so look for a bare one. */
  line(buf: Buffer, start: number, end: number, mayHaveCR: boolean): void {
    this.lineNo++;
    if (buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf && end - start >= 3) {
      const where = this.lineNo === 1 ? 'file' : 'line (a file appended after another?)';
      this.problem(
        `UTF-8 byte-order mark at the start of the ${where}: upstream's json.loads raises 'Unexpected UTF-8 BOM'; save as UTF-8 without BOM`,
      );
      start += 3;
    }
    const text = buf.toString('utf8', start, end);
    // U+FFFD means either a literal replacement character or bytes that are not UTF-8; only then ask.
    if (text.includes('\uFFFD') && !isUtf8(buf.subarray(start, end))) {
      this.rows++;
      this.problem('invalid UTF-8: upstream raises UnicodeDecodeError while reading the file');
      return;
    }
    if (mayHaveCR && this.bareCarriageReturn(text)) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      this.badJson(text, err);
      return;
    }
    this.rows++;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      const got = value === null ? 'null' : Array.isArray(value) ? 'a list' : `a ${typeof value}`;
      this.problem(`not a JSON object (got ${got}); each line must be one {...} record`);
      return;
    }
    this.record(value as Record<string, unknown>);
  }

  /** Python reads text with universal newlines: a '\r' not followed by '\n' ends a line there. */
  private bareCarriageReturn(text: string): boolean {
    const cr = text.indexOf('\r');
    if (cr === -1 || cr === text.length - 1) return false;
    this.rows++;
    this.problem(
      "bare carriage return (\\r) inside the line: Python's universal-newline reading splits the line there; use \\n line endings",
    );
    return true;
  }

  private badJson(text: string, err: unknown): void {
    if (text.trim() === '') {
      this.problem(
        "blank line: upstream's json.loads raises JSONDecodeError on it (a double newline at the end of the file counts too); remove it",
      );
      return;
    }
    this.rows++;
    this.problem(`invalid JSON: ${jsonReason(text, err)}`);
  }

  /** An over-long line: counted and reported, its bytes are skipped by readLines. */
  tooLong(): void {
    this.lineNo++;
    this.rows++;
    this.problem(`line is longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB and was not checked`);
  }

  private record(rec: Record<string, unknown>): void {
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
    else this.ctx.lengths?.add(this.format as DatasetFormat, rec, {
      chosen: features?.chosen_feature ?? 'chosen',
      rejected: features?.rejected_feature ?? 'rejected',
    });
  }
}

/** V8's JSON.parse message without the echoed input, with a 1-based column and a hint where one helps. */
function jsonReason(text: string, err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  const nanLike = /^Unexpected token '[NI]'|^No number after minus sign/.test(raw);
  if (nanLike && /[:,[]\s*(NaN|-?Infinity)\s*[,}\]]/.test(text)) {
    return "NaN/Infinity is not standard JSON (Python's json.loads accepts it, but the value is almost certainly a data bug)";
  }
  let reason = raw
    .replace(/, ".*"(\.\.\.)? is not valid JSON$/s, '')
    .replace(
      /( in)? JSON at position (\d+)(?: \(line \d+ column \d+\))?/,
      (_m, inJson: string | undefined, p: string) => `${inJson ? '' : ' JSON'} at column ${Number(p) + 1}`,
    );
  if (/^\s*\{\s*'/.test(text)) reason += ' (single quotes? JSON strings and keys need double quotes)';
  if (reason.startsWith('Unexpected non-whitespace character after JSON')) {
    reason += ' (two records on one line? each record needs its own line)';
  }
  return reason.length > 200 ? `${reason.slice(0, 199)}…` : reason;
}

/**
 * Cuts a byte stream into lines (the bytes between '\n's) for onLine; a view is valid only during the
 * call. A final line without '\n' counts; the empty piece after a final '\n' does not, as in Python's
 * file iteration. Lines over MAX_LINE_BYTES are reported via onTooLong and skipped, bounding memory.
 */
class LineSplitter {
  private carry: Buffer[] = []; // copies of the start of a line whose '\n' has not arrived yet
  private carryBytes = 0;
  private skipping = false;

  constructor(
    private readonly onLine: (buf: Buffer, start: number, end: number, mayHaveCR: boolean) => void,
    private readonly onTooLong: () => void,
  ) {}

  push(chunk: Buffer): void {
    const mayHaveCR = chunk.indexOf(CARRIAGE_RETURN) !== -1; // one memchr per chunk spares a scan per line
    let pos = 0;
    let nl = chunk.indexOf(NEWLINE);
    while (nl !== -1) {
      if (this.skipping) this.skipping = false;
      else if (this.carryBytes === 0) this.onLine(chunk, pos, nl, mayHaveCR);
      else this.flushCarry(chunk.subarray(pos, nl));
      pos = nl + 1;
      nl = chunk.indexOf(NEWLINE, pos);
    }
    if (pos === chunk.length || this.skipping) return;
    this.carry.push(Buffer.from(chunk.subarray(pos))); // copied: the caller reuses chunk
    this.carryBytes += chunk.length - pos;
    if (this.carryBytes > MAX_LINE_BYTES) {
      this.onTooLong();
      this.carry = [];
      this.carryBytes = 0;
      this.skipping = true;
    }
  }

  end(): void {
    if (this.carryBytes > 0) this.flushCarry(Buffer.alloc(0));
  }

  private flushCarry(rest: Buffer): void {
    const line = Buffer.concat([...this.carry, rest]);
    this.carry = [];
    this.carryBytes = 0;
    this.onLine(line, 0, line.length, true);
  }
}

/**
 * Reads `file` through two reused 1 MiB buffers, reading the next piece while this one is parsed, and
 * feeds the splitter. Returns the bytes read. Not a ReadStream: a stream allocates a new Buffer per
 * chunk and V8 frees them only on GC, so ~64 MB of dead chunks pile up (measured peak RSS 135 MB on a
 * 1 GB file, against under 60 MB here).
 */
async function readLines(file: string, splitter: LineSplitter): Promise<number> {
  const handle = await open(file, 'r');
  let current = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  let spare = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  let pending = handle.read(current, 0, READ_CHUNK_BYTES, null);
  let bytes = 0;
  try {
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      bytes += bytesRead;
      [current, spare] = [spare, current];
      pending = handle.read(current, 0, READ_CHUNK_BYTES, null);
      splitter.push(spare.subarray(0, bytesRead));
    }
    splitter.end();
    return bytes;
  } finally {
    // If parsing threw, a read may still be in flight: let it settle before the handle is closed.
    await pending.then(
      () => undefined,
      () => undefined, // its error, if any, is moot: the first error is the one that propagates
    );
    await handle.close();
  }
}

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

function rowCountProblem(mode: TrainMode, file: string, rows: number, batchSize: number): string {
  if (mode === 'ftpo')
    return `${file} has ${rows} rows: FTPO dataset must contain at least batch_size=${batchSize} rows (upstream raises)`;
  if (RAISING_MODES.has(mode)) {
    return `${file} has ${rows} rows, fewer than batch_size=${batchSize}: upstream raises 'Dataset must have at least batch_size=${batchSize} examples but only has ${rows}.'`;
  }
  return `${file} has ${rows} rows, fewer than batch_size=${batchSize}: upstream's batch iterator yields no batches and ${mode} training hangs forever`;
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
  lengths: SequenceLengthTracker | null = null,
): Promise<{ report: SplitReport; format: string | null }> {
  const file = `${split}.jsonl`;
  const st = job.stats[split];
  const report: SplitReport = { file, present: st !== null, rows: 0, bytes: 0 };
  if (unreadable(job, split, st, sink)) return { report, format: null };
  const { mode, features, batchSize } = job.opts;
  const checker = new SplitChecker({ file, mode, features, reference, sink, lengths });
  try {
    const splitter = new LineSplitter(
      (b, s, e, cr) => checker.line(b, s, e, cr),
      () => checker.tooLong(),
    );
    report.bytes = await readLines(path.join(job.realDir, file), splitter);
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
    sink.add(file, null, rowCountProblem(mode, file, report.rows, batchSize));
  }
  return { report, format: checker.format };
}

async function runValidation(job: Job): Promise<{ report: DatasetReport; cacheable: boolean }> {
  const sink = new ProblemSink(job.maxProblems);
  const lengths = new SequenceLengthTracker();
  const train = await checkSplit(job, 'train', null, sink, lengths);
  const valid = await checkSplit(job, 'valid', train.format, sink, lengths);
  const test = await checkSplit(job, 'test', train.format, sink);
  const report = buildReport(
    job.opts,
    sink,
    train.format,
    { train: train.report, valid: valid.report, test: test.report },
    lengths.result(),
  );
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
