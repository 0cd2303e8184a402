// Format-agnostic JSONL checks fed chunk by chunk while an upload streams: one JSON object per line, UTF-8, no blanks.
import { isUtf8 } from 'node:buffer';

import type { FileIssue } from '../domain/errors.js';

const NEWLINE = 0x0a;
/** Longer lines are reported and skipped, so memory stays bounded (the dataset validator uses the same cap). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/**
 * Counts rows and collects problems (file, 1-based line) in constant memory but for one line. The same rules as
 * upstream's `[json.loads(l) for l in open(path)]`: a blank line, a BOM, invalid UTF-8 or a bare '\r' each fail it.
 */
export class JsonlChecker {
  rows = 0;
  bytes = 0;
  totalProblems = 0;
  readonly problems: FileIssue[] = [];
  private lineNo = 0;
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private skipping = false;

  constructor(
    readonly file: string,
    private readonly maxProblems = 100,
  ) {}

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    let pos = 0;
    let nl = chunk.indexOf(NEWLINE);
    while (nl !== -1) {
      if (this.skipping) this.skipping = false;
      else
        this.line(this.carryBytes === 0 ? chunk.subarray(pos, nl) : this.takeCarry(chunk.subarray(pos, nl)));
      pos = nl + 1;
      nl = chunk.indexOf(NEWLINE, pos);
    }
    if (pos === chunk.length || this.skipping) return;
    this.carry.push(Buffer.from(chunk.subarray(pos)));
    this.carryBytes += chunk.length - pos;
    if (this.carryBytes > MAX_LINE_BYTES) {
      this.lineNo++;
      this.rows++;
      this.problem(`line is longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB`);
      this.carry = [];
      this.carryBytes = 0;
      this.skipping = true;
    }
  }

  end(): void {
    if (this.carryBytes > 0) this.line(this.takeCarry(Buffer.alloc(0)));
    if (this.bytes === 0) this.problem(`${this.file} is empty: upstream fails on an empty split file`, null);
  }

  private takeCarry(rest: Buffer): Buffer {
    const line = Buffer.concat([...this.carry, rest]);
    this.carry = [];
    this.carryBytes = 0;
    return line;
  }

  private problem(message: string, line: number | null = this.lineNo): void {
    this.totalProblems++;
    if (this.problems.length < this.maxProblems) this.problems.push({ file: this.file, line, message });
  }

  private line(buf: Buffer): void {
    this.lineNo++;
    if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
      this.problem(
        "UTF-8 byte-order mark: upstream's json.loads raises 'Unexpected UTF-8 BOM'; save as UTF-8 without BOM",
      );
      buf = buf.subarray(3);
    }
    if (!isUtf8(buf)) {
      this.rows++;
      return this.problem('invalid UTF-8: upstream raises UnicodeDecodeError while reading the file');
    }
    const text = buf.toString('utf8');
    const cr = text.indexOf('\r');
    if (cr !== -1 && cr !== text.length - 1) {
      this.rows++;
      return this.problem(
        "bare carriage return (\\r) inside the line: Python's universal newlines split it there",
      );
    }
    if (text.trim() === '')
      return this.problem("blank line: upstream's json.loads raises JSONDecodeError on it; remove it");
    this.rows++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      const reason = (e instanceof Error ? e.message : String(e)).replace(
        /, ".*"(\.\.\.)? is not valid JSON$/s,
        '',
      );
      return this.problem(`invalid JSON: ${reason.slice(0, 200)}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.problem('not a JSON object: each line must be one {...} record');
    }
  }
}
