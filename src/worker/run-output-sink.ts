// Takes a trainer's output lines: strips ANSI, writes the run's log file and SQLite in batches (head and tail
// kept under the log cap), parses metrics, checkpoints and errors, and reports progress, throttled.
import fs from 'node:fs';

import type { Db } from '../db/client.js';
import { appendLogLines, deleteLogRange, maxLogSeq } from '../db/logs-repository.js';
import { insertMetrics } from '../db/metrics-repository.js';
import { updateRunProgress } from '../db/runs-repository.js';
import { outOfMemoryText } from '../domain/run-memory.js';
import { createTrainerOutputParser, type MetricPoint, stripAnsi, type TrainerEvent } from '../domain/trainer-output.js';

export type LogStream = 'stdout' | 'stderr' | 'system';

/** The lines of output within which an unverified version must yield a metric once it prints reports. */
export const RECOGNITION_LINES = 200;

export interface Progress {
  iteration: number;
  total: number | null;
  latestLoss: number | null;
  latestValLoss: number | null;
}

export interface SinkOptions {
  db: Db;
  runId: string;
  attempt: number;
  logFile: string;
  logCapBytes: number;
  /** Iterations done before this attempt (upstream restarts at 1 when resuming). */
  iterationOffset: number;
  /** Known total when resuming (the first attempt's total). */
  total: number | null;
  onProgress?: (p: Progress) => void;
  /** Called with each batch of metric points right after it is in SQLite (the sweep's early-stopping check). */
  onMetrics?: (points: readonly MetricPoint[]) => void;
  /** A problem that does not stop the run but must not pass silently (the log file cannot be written). */
  onProblem?: (message: string) => void;
  /**
   * For an unverified trainer version: called once when the output has report-like lines (`Iter N…`) but no metric
   * came out of its first RECOGNITION_LINES lines, so a run never shows silently empty charts.
   */
  onUnrecognisedReports?: () => void;
  flushIntervalMs?: number;
  progressIntervalMs?: number;
}

export interface SinkSummary {
  checkpoints: { iteration: number; file: string }[];
  finalAdapterFile: string | null;
  errors: string[];
  lastLines: string[];
  /** The trainer's out-of-memory text (Metal abort or metal::malloc error) when stderr carried one. */
  outOfMemory: string | null;
  progress: Progress;
  lines: number;
  bytes: number;
}

interface PendingLine {
  seq: number;
  stream: LogStream;
  text: string;
  at: number;
}

const TAIL_LINES_FOR_ERRORS = 40;
const BATCH_LINES = 2000;

export class RunOutputSink {
  private readonly parser = createTrainerOutputParser();
  private readonly file: fs.WriteStream;
  private readonly pending: PendingLine[] = [];
  /** Head lines not yet in the log file: one write per flush, not one Buffer per line. */
  private readonly fileLines: string[] = [];
  private readonly pendingMetrics: MetricPoint[] = [];
  private readonly tail: PendingLine[] = [];
  private tailBytes = 0;
  private seq: number;
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
      o.onProblem?.(`could not write the log file ${o.logFile}: ${e.message}; the lines are still kept in SQLite`);
    });
    this.seq = maxLogSeq(o.db, o.runId);
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
    const last = this.summary.lastLines;
    if (text.trim() !== '' && !/^\S+:\s+\d+%\|/.test(text)) {
      last.push(text);
      if (last.length > TAIL_LINES_FOR_ERRORS) last.shift();
    }
    if (stream === 'stderr' && this.summary.outOfMemory === null) this.summary.outOfMemory = outOfMemoryText(text);
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
    if (this.recognition === 'watching' && this.recognitionLines >= RECOGNITION_LINES) this.judgeRecognition();
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
      case 'checkpoint':
        this.summary.checkpoints.push({ iteration: ev.iteration + off, file: ev.checkpointFile });
        break;
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
    updateRunProgress(this.o.db, this.o.runId, {
      progressIteration: p.iteration,
      progressTotal: p.total,
      latestLoss: p.latestLoss,
      latestValLoss: p.latestValLoss,
    });
    this.o.onProgress?.({ ...p });
  }

  /** Writes buffered lines and metrics to SQLite in one transaction each. */
  flush(): void {
    if (this.fileLines.length > 0) this.file.write(`${this.fileLines.splice(0).join('\n')}\n`);
    if (this.pending.length > 0) {
      const lines = this.pending.splice(0);
      appendLogLines(this.o.db, this.o.runId, lines);
      if (this.headEndSeq !== null && this.tail.length > 0) {
        // Over the cap: keep the head and the tail, drop the middle.
        deleteLogRange(this.o.db, this.o.runId, this.headEndSeq, this.tail[0]!.seq);
      }
    }
    if (this.pendingMetrics.length > 0) {
      const points = this.pendingMetrics.splice(0);
      insertMetrics(this.o.db, this.o.runId, this.o.attempt, points);
      this.o.onMetrics?.(points);
    }
    updateRunProgress(this.o.db, this.o.runId, { logLines: this.summary.lines, logBytes: this.summary.bytes });
    this.maybeReportProgress();
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
        appendLogLines(this.o.db, this.o.runId, [{ seq: gap, stream: 'system', text: marker, at: Date.now() }]);
      }
    }
    await new Promise<void>((resolve) => this.file.end(resolve));
    return this.summary;
  }
}
