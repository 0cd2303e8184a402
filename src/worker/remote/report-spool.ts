// The worker's on-disk, ordered outbox of reports for one attempt: each report is appended to a file before it is
// sent, sent in order, and the position of the first unsent one is kept on disk. While the control plane is
// unreachable reports pile up and training goes on; they are replayed in order when it answers, and, the calls being
// idempotent, a report sent twice (answer lost, worker restarted) is stored once. Consecutive reports the sender can
// take together (`batchKey`) go in one call, so a backlog drains in a few calls instead of one per report.
import fs from 'node:fs';
import path from 'node:path';

import { type CallFailure, ControlPlaneError } from './control-plane-client.js';
import {
  decodeLine,
  dropTornTail,
  encodeEntry,
  readLines,
  type SpooledReport,
  type SpoolEntry,
  type SpoolHeader,
} from './spool-file.js';

export type { SpooledReport, SpoolEntry, SpoolHeader } from './spool-file.js';

export interface SpoolLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SpoolOptions {
  dir: string;
  /** One spool per attempt: `<run id>.<attempt>`. */
  key: string;
  /** Sends one report, or several that share a `batchKey`, in one call. */
  send(reports: SpooledReport[]): Promise<unknown>;
  /** Reports with the same non-null key, one after the other in the spool, may be sent together. */
  batchKey?(report: SpoolHeader): string | null;
  /** A call carries at most this many bytes of reports (one larger report goes alone); default 4 MiB. */
  maxBatchBytes?: number;
  /** And at most this many reports; default 500. */
  maxBatchReports?: number;
  log: SpoolLog;
  /** The control plane said the attempt is over: the spool is dropped and the trainer should stop. */
  onStale?(error: ControlPlaneError): void;
  /** The control plane refused the worker's token (revoked): the spool stops like a stale one. */
  onUnauthorized?(error: ControlPlaneError): void;
  onAnswer?(reports: SpoolHeader[], answer: unknown): void;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class ReportSpool {
  private readonly file: string;
  private readonly posFile: string;
  private readonly fd: number;
  private size: number;
  private pos: number;
  private closed = false;
  private stale = false;
  private unauthorized = false;
  private wake: (() => void) | null = null;
  private stopBackoff: (() => void) | null = null;
  private waiters: (() => void)[] = [];
  private readonly loop: Promise<void>;
  /** Consecutive failures of the entry at `pos`; how long the next wait is. */
  private failures = 0;
  /** A batch was refused: the reports before this position go one per call, so each gets its own verdict. */
  private singleUntil = 0;
  lastFailure: CallFailure | null = null;

  constructor(private readonly o: SpoolOptions) {
    fs.mkdirSync(o.dir, { recursive: true });
    this.file = path.join(o.dir, `${o.key}.jsonl`);
    this.posFile = path.join(o.dir, `${o.key}.pos`);
    dropTornTail(this.file);
    this.fd = fs.openSync(this.file, 'a+');
    this.size = fs.fstatSync(this.fd).size;
    this.pos = Math.min(this.size, Number.parseInt(readOr(this.posFile, '0'), 10) || 0);
    this.loop = this.run();
  }

  /** Spools left on disk by an earlier process (keys), oldest first. */
  static leftovers(dir: string): string[] {
    const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl')) : [];
    return names
      .map((n) => ({ key: n.slice(0, -'.jsonl'.length), at: fs.statSync(path.join(dir, n)).mtimeMs }))
      .sort((a, b) => a.at - b.at)
      .map((s) => s.key);
  }

  get pending(): number {
    return this.size - this.pos;
  }

  get isStale(): boolean {
    return this.stale;
  }

  /** Stopped because the worker's token was refused. */
  get isUnauthorized(): boolean {
    return this.unauthorized;
  }

  /** Appends a report (synchronously, so it is on disk before this returns) and lets the sender know. */
  enqueue(entry: SpoolEntry): void {
    if (this.stale) return;
    const line = encodeEntry(entry);
    const bytes = Buffer.byteLength(line);
    // A short write would tear the line: the rest goes too, so the size counted is the size on disk.
    for (let done = fs.writeSync(this.fd, line); done < bytes;)
      done += fs.writeSync(this.fd, Buffer.from(line).subarray(done));
    this.size += bytes;
    this.wake?.();
  }

  /** Resolves true once every report so far was accepted, false after `timeoutMs` or when the spool went stale. */
  async drained(timeoutMs = Infinity): Promise<boolean> {
    if (this.pos >= this.size || this.stale) return !this.stale;
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<boolean>((resolve) => this.waiters.push(() => resolve(!this.stale)));
    const timeout = new Promise<boolean>(
      (resolve) =>
        (timer = Number.isFinite(timeoutMs) ? setTimeout(() => resolve(false), timeoutMs) : undefined),
    );
    try {
      return await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops sending; what is unsent stays on disk for the next process (see leftovers). */
  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    this.stopBackoff?.();
    await this.loop;
    fs.closeSync(this.fd);
  }

  /** Removes the files once everything was sent (or the attempt went stale). */
  async finish(): Promise<void> {
    await this.close();
    if (this.pos >= this.size || this.stale)
      for (const f of [this.file, this.posFile]) fs.rmSync(f, { force: true });
  }

  private async run(): Promise<void> {
    while (!this.closed && !this.stale) {
      const next = this.pos < this.size ? this.readBatch() : null;
      if (next === null) {
        for (const w of this.waiters.splice(0)) w();
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      await this.sendBatch(next.reports, next.length);
    }
    for (const w of this.waiters.splice(0)) w();
  }

  private async sendBatch(reports: SpooledReport[], length: number): Promise<void> {
    const first = reports[0]!;
    try {
      const answer = await this.o.send(reports);
      this.advance(length);
      this.o.onAnswer?.(reports, answer);
    } catch (e) {
      const err = e instanceof ControlPlaneError ? e : new ControlPlaneError('retry', (e as Error).message);
      this.lastFailure = err.failure;
      switch (err.failure) {
        case 'stale':
          this.stale = true;
          this.o.onStale?.(err);
          return;
        case 'refused':
          if (reports.length > 1) {
            // Which report is wrong? Sent one by one, the good ones are stored and only the wrong one is skipped.
            this.singleUntil = this.pos + length;
            return;
          }
          // Sending it again cannot help, and holding it would block every later report: say so loudly, move on.
          this.o.log.error(
            { path: first.path, err: err.message },
            'the control plane refused a report; skipping it',
          );
          this.advance(length);
          return;
        case 'unauthorized':
          this.stale = true;
          this.unauthorized = true;
          this.o.onUnauthorized?.(err);
          return;
        case 'retry':
          if (this.failures === 0)
            this.o.log.warn(
              { path: first.path, err: err.message },
              'control plane unreachable; reports are spooled and resent',
            );
          await this.backoff();
      }
    }
  }

  private advance(length: number): void {
    this.pos += length;
    this.failures = 0;
    this.lastFailure = null;
    // Written then renamed: a crash leaves the old position or the new one, never a torn number.
    const tmp = `${this.posFile}.tmp`;
    fs.writeFileSync(tmp, String(this.pos));
    fs.renameSync(tmp, this.posFile);
  }

  /** Jittered exponential wait (Buildkite-style), cut short by close(). */
  private async backoff(): Promise<void> {
    const min = this.o.retryMinMs ?? 200;
    const max = this.o.retryMaxMs ?? 5000;
    const ms = Math.min(max, min * 2 ** this.failures++) * (0.5 + Math.random() / 2);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.stopBackoff = () => {
        clearTimeout(t);
        resolve();
      };
    });
    this.stopBackoff = null;
  }

  /** The report at `pos` and those after it that may go in the same call; null when no line is complete. */
  private readBatch(): { reports: SpooledReport[]; length: number } | null {
    const maxBytes = this.o.maxBatchBytes ?? 4 * 1024 * 1024;
    const single = this.pos < this.singleUntil || !this.o.batchKey;
    const lines = readLines(this.fd, this.pos, this.size, single ? 64 * 1024 : maxBytes);
    if (lines.length === 0) return null; // a torn last line (crash mid-write): nothing complete to send
    const first = decodeLine(lines[0]!);
    const reports = [first];
    let length = lines[0]!.length + 1;
    const key = single ? null : this.o.batchKey!(first);
    const max = this.o.maxBatchReports ?? 500;
    for (const line of lines.slice(1)) {
      if (key === null || reports.length >= max) break;
      const next = decodeLine(line);
      if (this.o.batchKey!(next) !== key) break;
      reports.push(next);
      length += line.length + 1;
    }
    return { reports, length };
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}
