// Takes a trainer's output lines: strips ANSI, writes the run's log file and reports them in batches (head and tail
// kept under the log cap) as log chunks by byte offset, parses metrics, checkpoints and errors, and reports progress,
// throttled. Everything goes through the attempt's reporter (in-process or HTTP), never to SQLite directly. Its
// options and summary are in run-output-types.ts.
import fs from 'node:fs';

import { outOfMemoryText } from '../domain/run-memory.js';
import {
  createTrainerOutputParser,
  type MetricPoint,
  stripAnsi,
  type TrainerEvent,
} from '../domain/trainer-output.js';
import type { ProgressFields } from '../shared/report-protocol.js';
import {
  type LogStream,
  type PendingLine,
  RECOGNITION_LINES,
  type SinkOptions,
  type SinkSummary,
} from './run-output-types.js';

const TAIL_LINES_FOR_ERRORS = 40;
const BATCH_LINES = 2000;

export class RunOutputSink {
  private readonly parser = createTrainerOutputParser();
  private readonly file: fs.WriteStream;
  private readonly pending: PendingLine[] = [];
  /** The bytes of `pending` in the log (text and newline), counted as lines come, not again at each flush. */
  private pendingBytes = 0;
  /** Head lines not yet in the log file: one write per flush, not one Buffer per line. */
  private readonly fileLines: string[] = [];
  private readonly pendingMetrics: MetricPoint[] = [];
  private readonly tail: PendingLine[] = [];
  private tailBytes = 0;
  private seq: number;
  /** The log's length in bytes up to the last line reported. */
  private offset: number;
  private headBytes = 0;
  private headEndSeq: number | null = null;
  private omittedLines = 0;
  private readonly flushTimer: NodeJS.Timeout;
  private lastProgressAt = 0;
  private progressDirty = false;
  private recognition: 'watching' | 'done' = 'watching';
  private recognitionLines = 0;
  private reportLikeLines = 0;
  private metricsSeen = false;
  private readonly summary: SinkSummary;
  private fileError = false;

  constructor(private readonly o: SinkOptions) {
    // A resumed attempt appends: the cap holds across attempts once the run's head is full.
    const existing = fs.statSync(o.logFile, { throwIfNoEntry: false })?.size ?? 0;
    this.file = fs.createWriteStream(o.logFile, { flags: 'a' });
    // The log file is a copy (SQLite has every line): a write error does not stop the run, but it is said, once.
    this.file.on('error', (e) => {
      if (this.fileError) return;
      this.fileError = true;
      o.onProblem?.(
        `could not write the log file ${o.logFile}: ${e.message}; the lines are still kept in SQLite`,
      );
    });
    this.seq = o.log.seq;
    this.offset = o.log.offset;
    this.headBytes = Math.min(existing, o.logCapBytes / 2);
    if (existing >= o.logCapBytes / 2) this.headEndSeq = this.seq;
    this.summary = {
      checkpoints: [],
      finalAdapterFile: null,
      errors: [],
      lastLines: [],
      outOfMemory: null,
      progress: { iteration: o.iterationOffset, total: o.total, latestLoss: null, latestValLoss: null },
      lines: 0,
      bytes: 0,
    };
    this.flushTimer = setInterval(() => this.flush(), o.flushIntervalMs ?? 250);
  }

  line(stream: LogStream, raw: string): void {
    const text = stripAnsi(raw);
    if (stream !== 'system' && this.recognition !== 'done') {
      this.recognitionLines++;
      if (text.trimStart().startsWith('Iter ')) this.reportLikeLines++;
    }
    const entry: PendingLine = { seq: ++this.seq, stream, text, at: Date.now() };
    this.summary.lines++;
    const bytes = Buffer.byteLength(text) + 1;
    this.summary.bytes += bytes;
    this.writeCapped(entry, bytes);
    this.pending.push(entry);
    this.pendingBytes += bytes;
    const last = this.summary.lastLines;
    if (text.trim() !== '' && !/^\S+:\s+\d+%\|/.test(text)) {
      last.push(text);
      if (last.length > TAIL_LINES_FOR_ERRORS) last.shift();
    }
    if (stream === 'stderr' && this.summary.outOfMemory === null)
      this.summary.outOfMemory = outOfMemoryText(text);
    let checkpoint = false;
    if (stream !== 'system') {
      for (const ev of this.parser.push(text)) {
        this.onEvent(ev);
        checkpoint ||= ev.kind === 'checkpoint';
      }
    }
    // A checkpoint is a point a crash resumes from: what was printed up to it must be in SQLite by then.
    if (checkpoint) {
      this.flush();
      this.maybeReportProgress(true);
    } else if (this.pending.length >= BATCH_LINES) this.flush();
    if (this.recognition === 'watching' && this.recognitionLines >= RECOGNITION_LINES)
      this.judgeRecognition();
  }

  /** Once: report-like lines without any metric mean this version's report format is not one the parser knows. */
  private judgeRecognition(): void {
    if (this.recognition === 'done') return;
    this.recognition = 'done';
    if (this.reportLikeLines > 0 && !this.metricsSeen) this.o.onUnrecognisedReports?.();
  }

  private writeCapped(entry: PendingLine, bytes: number): void {
    const half = this.o.logCapBytes / 2;
    if (this.headEndSeq === null && this.headBytes + bytes <= half) {
      this.headBytes += bytes;
      this.fileLines.push(entry.text);
      return;
    }
    if (this.headEndSeq === null) this.headEndSeq = entry.seq - 1;
    this.tail.push(entry);
    this.tailBytes += bytes;
    while (this.tailBytes > half && this.tail.length > 1) {
      const dropped = this.tail.shift()!;
      this.tailBytes -= Buffer.byteLength(dropped.text) + 1;
      this.omittedLines++;
    }
  }

  private onEvent(ev: TrainerEvent): void {
    const off = this.o.iterationOffset;
    const p = this.summary.progress;
    switch (ev.kind) {
      case 'metrics':
        this.metricsSeen = true;
        for (const pt of ev.points) this.pendingMetrics.push({ ...pt, iteration: pt.iteration + off });
        if (ev.split === 'train') {
          p.iteration = Math.max(p.iteration, ev.iteration + off);
          const loss = ev.points.find((x) => x.name === 'loss');
          if (loss) p.latestLoss = Number.isFinite(loss.value) ? loss.value : null;
        } else if (ev.split === 'val') {
          const loss = ev.points.find((x) => x.name === 'loss');
          if (loss) p.latestValLoss = Number.isFinite(loss.value) ? loss.value : null;
        }
        this.progressDirty = true;
        break;
      case 'progress':
        p.iteration = Math.max(p.iteration, ev.iteration + off);
        // A total in a progress event is upstream's own (its bar, or a Starting/Calculated line seen before).
        if (ev.total !== null) p.total = ev.total + off;
        this.progressDirty = true;
        break;
      case 'total_iterations':
        // Upstream's count corrects the one expected from the request (e.g. epochs over rows it filtered out).
        p.total = ev.total + off;
        this.progressDirty = true;
        break;
      case 'checkpoint': {
        const c = { iteration: ev.iteration + off, file: ev.checkpointFile };
        this.summary.checkpoints.push(c);
        this.o.onCheckpoint?.(c);
        break;
      }
      case 'final':
        this.summary.finalAdapterFile = ev.adapterFile;
        break;
      case 'error':
        this.summary.errors.push(ev.message);
        break;
      case 'fused':
        break;
    }
    this.maybeReportProgress();
  }

  private maybeReportProgress(force = false): void {
    if (!this.progressDirty) return;
    const now = Date.now();
    if (!force && now - this.lastProgressAt < (this.o.progressIntervalMs ?? 1000)) return;
    this.lastProgressAt = now;
    this.progressDirty = false;
    const p = this.summary.progress;
    this.progress({
      progressIteration: p.iteration,
      progressTotal: p.total,
      latestLoss: p.latestLoss,
      latestValLoss: p.latestValLoss,
    });
    this.o.onProgress?.({ ...p });
  }

  /** Reports progress fields alone: a chunk of no bytes at the log's current end. */
  progress(fields: ProgressFields): void {
    this.flush(false);
    this.o.report.logs({ offset: this.offset, bytes: 0, lines: [], lineCount: 0, progress: fields });
  }

  /** Reports buffered lines (one chunk) and metrics (one batch). */
  flush(withProgress = true): void {
    if (this.fileLines.length > 0) this.file.write(`${this.fileLines.splice(0).join('\n')}\n`);
    if (this.pending.length > 0) {
      const lines = this.pending.splice(0);
      const bytes = this.pendingBytes;
      this.pendingBytes = 0;
      // Over the cap: the head and the tail are kept, the middle dropped; lines already dropped are not sent.
      const tailStart = this.headEndSeq !== null ? this.tail[0]?.seq : undefined;
      const kept =
        tailStart === undefined
          ? lines
          : lines.filter((l) => l.seq <= this.headEndSeq! || l.seq >= tailStart);
      const trim = tailStart !== undefined ? { afterSeq: this.headEndSeq!, beforeSeq: tailStart } : undefined;
      this.o.report.logs({
        offset: this.offset,
        bytes,
        lines: kept,
        lineCount: lines.length,
        ...(trim ? { trim } : {}),
      });
      this.offset += bytes;
    }
    if (this.pendingMetrics.length > 0) this.o.report.metrics(this.pendingMetrics.splice(0));
    if (withProgress) this.maybeReportProgress();
  }

  async close(): Promise<SinkSummary> {
    clearInterval(this.flushTimer);
    for (const ev of this.parser.end()) this.onEvent(ev);
    this.judgeRecognition();
    this.flush();
    this.maybeReportProgress(true);
    if (this.headEndSeq !== null) {
      const marker = `[... ${this.omittedLines} lines omitted: the log is capped at ${this.o.logCapBytes} bytes (LOG_CAP_BYTES) ...]`;
      this.file.write(`${marker}\n`);
      for (const t of this.tail) this.file.write(`${t.text}\n`);
      // The same marker in SQLite, in the gap the dropped lines left (their seqs are free again).
      const gap = this.headEndSeq + 1;
      if (this.omittedLines > 0 && (this.tail[0]?.seq ?? Infinity) > gap) {
        this.o.report.logs({
          offset: this.offset,
          bytes: 0,
          lines: [{ seq: gap, stream: 'system', text: marker, at: Date.now() }],
          lineCount: 0,
        });
      }
    }
    await new Promise<void>((resolve) => this.file.end(resolve));
    return this.summary;
  }
}
