// Format-agnostic JSONL checks fed chunk by chunk while an upload streams: one JSON object per line, UTF-8, no blanks.
import type { FileIssue } from '../domain/errors.js';
import { JsonlLineChecker, JsonlLineSplitter } from './jsonl-lines.js';

/** Collects the line problems of one file, up to maxProblems (all are counted). */
class UploadLineChecker extends JsonlLineChecker {
  totalProblems = 0;
  readonly problems: FileIssue[] = [];

  constructor(
    private readonly file: string,
    private readonly maxProblems: number,
  ) {
    super();
  }

  add(message: string, line: number | null): void {
    this.totalProblems++;
    if (this.problems.length < this.maxProblems) this.problems.push({ file: this.file, line, message });
  }

  protected problem(message: string): void {
    this.add(message, this.lineNo);
  }

  protected record(): void {} // any object will do: the format is checked only when a method is named
}

/**
 * Counts rows and collects problems (file, 1-based line) in constant memory but for one line, with the same
 * line rules as the dataset validator (jsonl-lines.ts); an empty file is a problem too.
 */
export class JsonlChecker {
  bytes = 0;
  private readonly checker: UploadLineChecker;
  private readonly splitter: JsonlLineSplitter;

  constructor(
    readonly file: string,
    maxProblems = 100,
  ) {
    this.checker = new UploadLineChecker(file, maxProblems);
    this.splitter = new JsonlLineSplitter(this.checker);
  }

  get rows(): number {
    return this.checker.rows;
  }

  get problems(): FileIssue[] {
    return this.checker.problems;
  }

  get totalProblems(): number {
    return this.checker.totalProblems;
  }

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.splitter.push(chunk);
  }

  end(): void {
    this.splitter.end();
    if (this.bytes === 0)
      this.checker.add(`${this.file} is empty: upstream fails on an empty split file`, null);
  }
}
