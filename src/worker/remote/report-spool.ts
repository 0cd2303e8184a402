// The worker's on-disk, ordered outbox of reports for one attempt: each report is appended to a file before it is
// sent, sent one at a time in order, and the position of the first unsent one is kept on disk. While the control
// plane is unreachable reports pile up and training goes on; they are replayed in order when it answers, and, the
// calls being idempotent, a report sent twice (answer lost, worker restarted) is stored once.
import fs from 'node:fs';
import path from 'node:path';

import { type CallFailure, ControlPlaneError } from './control-plane-client.js';

export interface SpoolEntry {
  method: 'POST' | 'PUT';
  path: string;
  body: unknown;
}

export interface SpoolLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SpoolOptions {
  dir: string;
  /** One spool per attempt: `<run id>.<attempt>`. */
  key: string;
  send(entry: SpoolEntry): Promise<unknown>;
  log: SpoolLog;
  /** The control plane said the attempt is over: the spool is dropped and the trainer should stop. */
  onStale?(error: ControlPlaneError): void;
  /** The control plane refused the worker's token (revoked): the spool stops like a stale one. */
  onUnauthorized?(error: ControlPlaneError): void;
  onAnswer?(entry: SpoolEntry, answer: unknown): void;
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
    const line = Buffer.from(`${JSON.stringify(entry)}\n`);
    fs.writeSync(this.fd, line);
    this.size += line.length;
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
      const next = this.pos < this.size ? this.readAt(this.pos) : null;
      if (next === null) {
        for (const w of this.waiters.splice(0)) w();
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      await this.sendOne(next.entry, next.length);
    }
    for (const w of this.waiters.splice(0)) w();
  }

  private async sendOne(entry: SpoolEntry, length: number): Promise<void> {
    try {
      const answer = await this.o.send(entry);
      this.advance(length);
      this.o.onAnswer?.(entry, answer);
    } catch (e) {
      const err = e instanceof ControlPlaneError ? e : new ControlPlaneError('retry', (e as Error).message);
      this.lastFailure = err.failure;
      switch (err.failure) {
        case 'stale':
          this.stale = true;
          this.o.onStale?.(err);
          return;
        case 'refused':
          // Sending it again cannot help, and holding it would block every later report: say so loudly, move on.
          this.o.log.error(
            { path: entry.path, err: err.message },
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
              { path: entry.path, err: err.message },
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

  private readAt(pos: number): { entry: SpoolEntry; length: number } | null {
    let size = 64 * 1024;
    for (;;) {
      const buf = Buffer.allocUnsafe(size);
      const n = fs.readSync(this.fd, buf, 0, size, pos);
      const nl = buf.subarray(0, n).indexOf(10);
      if (nl >= 0)
        return { entry: JSON.parse(buf.subarray(0, nl).toString('utf8')) as SpoolEntry, length: nl + 1 };
      if (n < size) return null; // a torn last line (crash mid-write): nothing complete to send
      size *= 4;
    }
  }
}

/** A crash in the middle of an append leaves a line without its newline: cut it, so later lines stay whole. */
function dropTornTail(file: string): void {
  const size = fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
  if (size === 0) return;
  const fd = fs.openSync(file, 'r');
  try {
    // Look back from the end, a window at a time, for the last newline.
    for (let end = size; end > 0;) {
      const start = Math.max(0, end - 64 * 1024);
      const buf = Buffer.allocUnsafe(end - start);
      fs.readSync(fd, buf, 0, buf.length, start);
      const nl = buf.lastIndexOf(10);
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

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}
