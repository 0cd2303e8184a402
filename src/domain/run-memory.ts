// Pure: what a run records about memory: the estimate against the workers at submit, and how an out-of-memory ended.
import { type Fit, fitOn, type Suggestion, type WorkerMemory } from './memory-advice.js';
import type { MemoryBreakdown, MemoryEstimate } from './memory-estimate.js';

/** The `memory` answer of a dry run and of GET /v1/runs/:id (snake_case like the request it describes). */
export interface RunMemory {
  estimate_gb: number | null;
  breakdown: MemoryBreakdown | null;
  basis: MemoryEstimate['basis'] | null;
  notes: string[];
  /** "no estimate: <why>" when the model could not be read; null otherwise. */
  reason: string | null;
  usable_gb_by_worker: Record<string, number>;
  margin: number;
  /** At least one worker holds estimate × margin; null without an estimate or without workers. */
  fits: boolean | null;
  fit: Fit | 'unknown';
  largest_worker: { worker: string; usable_gb: number } | null;
}

/** How an out-of-memory failure is recorded on the run. */
export interface OutOfMemory {
  /** The trainer's highest peak_mem / Memory line before it died (GB); null when it printed none. */
  peak_gb: number | null;
  estimate_gb: number | null;
  /** The trainer's words (the Metal abort or the malloc error). */
  message: string;
  advice: string[];
  /** on_oom "reduce": each retry's changed values. */
  reductions: { attempt: number; step: number; change: Record<string, unknown>; why: string }[];
  /** The request's own values of the keys reductions change, before the first one. */
  original: Record<string, unknown>;
}

/** The facts' classification: these texts on stderr mean the trainer ran out of (GPU) memory. */
const OOM_TEXT = /Insufficient Memory|kIOGPUCommandBufferCallbackErrorOutOfMemory|\[metal::malloc\]/;

/** The out-of-memory message in a stderr line (from where it starts: a tqdm bar may precede it), or null. */
export function outOfMemoryText(line: string): string | null {
  if (!OOM_TEXT.test(line)) return null;
  const start = line.search(/libc\+\+abi|RuntimeError|\[METAL\]|\[metal::malloc\]/);
  return line.slice(Math.max(0, start)).trim();
}

export function largestWorker(workers: readonly WorkerMemory[]): WorkerMemory | null {
  return workers.reduce<WorkerMemory | null>(
    (best, w) => (best === null || w.usableGb > best.usableGb ? w : best),
    null,
  );
}

export function runMemory(
  estimate: MemoryEstimate | { error: string },
  workers: readonly WorkerMemory[],
  margin: number,
): RunMemory {
  const largest = largestWorker(workers);
  const base = {
    usable_gb_by_worker: Object.fromEntries(workers.map((w) => [w.worker, w.usableGb])),
    margin,
    largest_worker: largest ? { worker: largest.worker, usable_gb: largest.usableGb } : null,
  };
  if ('error' in estimate) {
    return {
      ...base,
      estimate_gb: null,
      breakdown: null,
      basis: null,
      notes: [],
      reason: `no estimate: ${estimate.error}`,
      fits: null,
      fit: 'unknown',
    };
  }
  const fit: Fit | 'unknown' = largest ? fitOn(estimate.estimateGb, largest.usableGb, margin) : 'unknown';
  return {
    ...base,
    estimate_gb: estimate.estimateGb,
    breakdown: estimate.breakdown,
    basis: estimate.basis,
    notes: estimate.notes,
    reason: null,
    fits: fit === 'unknown' ? null : fit !== 'no',
    fit,
  };
}

/** The 422 body's words: what the largest worker holds and the changes that would fit. */
export function doesNotFitMessage(memory: RunMemory, suggestions: readonly Suggestion[]): string {
  const w = memory.largest_worker;
  const where = w ? `the largest worker (${w.worker}) can use ${w.usable_gb} GB` : 'no worker is known';
  const fixes = suggestions
    .filter((s) => s.fits)
    .map(
      (s) =>
        `${Object.entries(s.change)
          .map(([k, v]) => `${k}=${String(v)}`)
          .join(', ')} (${s.estimateGb} GB)`,
    );
  return `The run needs about ${memory.estimate_gb} GB (× margin ${memory.margin}), more than any worker can hold: ${where}.${fixes.length ? ` Changes that fit: ${fixes.join('; ')}.` : ' No single change makes it fit.'}`;
}
