// What a run's output sink is given and gives back: its options (the attempt's reporter, where the log continues,
// the hooks for progress, checkpoints and problems) and the summary the attempt's outcome is decided from.
import type { AttemptReporter } from './reporter.js';

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
  report: AttemptReporter;
  /** Where the run's log continues: the byte offset and the last seq the control plane holds. */
  log: { offset: number; seq: number };
  logFile: string;
  logCapBytes: number;
  /** Iterations done before this attempt (upstream restarts at 1 when resuming). */
  iterationOffset: number;
  /** Known total when resuming (the first attempt's total). */
  total: number | null;
  onProgress?: (p: Progress) => void;
  /** Called for each checkpoint the trainer saved (its file as printed, and the run's iteration). */
  onCheckpoint?: (c: { iteration: number; file: string }) => void;
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

export interface PendingLine {
  seq: number;
  stream: LogStream;
  text: string;
  at: number;
}
