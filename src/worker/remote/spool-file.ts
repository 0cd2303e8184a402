// The spool file's framing: one JSON line per report, `{"method","path","body"}` in that order, so a sender reads a
// line's method and path and passes the body's JSON bytes on as they are (a 2,000-line log chunk is neither parsed
// nor serialised again on its way to the control plane). A torn last line (a crash mid-append) is cut at open.
import fs from 'node:fs';

export interface SpoolHeader {
  method: 'POST' | 'PUT';
  path: string;
}

export interface SpoolEntry extends SpoolHeader {
  body: object;
}

/** A report as read back: its body is the JSON text the spool holds. */
export interface SpooledReport extends SpoolHeader {
  body: Buffer;
}

const BODY_KEY = Buffer.from(',"body":');
const CLOSE = 0x7d; // '}'
const NEWLINE = 0x0a;

/**
 * One line, `JSON.stringify(entry)` with the keys in framing order. A string: the spool writes it as it is and counts
 * its bytes, with no Buffer copy of each chunk's JSON (bench: remote trainer).
 */
export function encodeEntry(entry: SpoolEntry): string {
  const { method, path, body } = entry;
  return `${JSON.stringify({ method, path, body })}\n`;
}

/**
 * Reads a line (without its newline) back. Inside the path's JSON string every quote is escaped, so the first
 * `,"body":` ends the header; a line framed any other way is parsed whole.
 */
export function decodeLine(line: Buffer): SpooledReport {
  const at = line.indexOf(BODY_KEY);
  if (at > 0 && line[line.length - 1] === CLOSE) {
    const header = parseHeader(`${line.toString('utf8', 0, at)}}`);
    if (header) return { ...header, body: line.subarray(at + BODY_KEY.length, line.length - 1) };
  }
  const whole = JSON.parse(line.toString('utf8')) as SpoolEntry;
  return {
    method: whole.method,
    path: whole.path,
    body: Buffer.from(JSON.stringify(whole.body ?? {})),
  };
}

function parseHeader(text: string): SpoolHeader | null {
  try {
    const h = JSON.parse(text) as Record<string, unknown>;
    const ok =
      Object.keys(h).length === 2 &&
      (h.method === 'POST' || h.method === 'PUT') &&
      typeof h.path === 'string';
    return ok ? (h as unknown as SpoolHeader) : null;
  } catch {
    return null;
  }
}

/**
 * The whole lines in [pos, end) (without their newlines), reading about `want` bytes (more when the first line is
 * longer). Empty when not even one line is complete.
 */
export function readLines(fd: number, pos: number, end: number, want: number): Buffer[] {
  let size = Math.min(end - pos, Math.max(want, 1));
  for (;;) {
    const buf = Buffer.allocUnsafe(size);
    const n = fs.readSync(fd, buf, 0, size, pos);
    const lines: Buffer[] = [];
    let from = 0;
    for (let nl = buf.indexOf(NEWLINE, 0); nl !== -1 && nl < n; nl = buf.indexOf(NEWLINE, from)) {
      lines.push(buf.subarray(from, nl));
      from = nl + 1;
    }
    if (lines.length > 0 || n < size || size >= end - pos) return lines;
    size = Math.min(end - pos, size * 4);
  }
}

/** A crash in the middle of an append leaves a line without its newline: cut it, so later lines stay whole. */
export function dropTornTail(file: string): void {
  const size = fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  if (size === 0) return;
  const fd = fs.openSync(file, 'r');
  try {
    // Look back from the end, a window at a time, for the last newline.
    for (let end = size; end > 0;) {
      const start = Math.max(0, end - 64 * 1024);
      const buf = Buffer.allocUnsafe(end - start);
      fs.readSync(fd, buf, 0, buf.length, start);
      const nl = buf.lastIndexOf(NEWLINE);
      if (nl === buf.length - 1 && end === size) return;
      if (nl >= 0) {
        fs.truncateSync(file, start + nl + 1);
        return;
      }
      end = start;
    }
    fs.truncateSync(file, 0);
  } finally {
    fs.closeSync(fd);
  }
}
