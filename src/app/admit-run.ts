// Admission at submit: the run's memory estimate and placement judged against every registered worker (this Mac's
// memory when no live worker is registered, as before workers registered), and the 422 for a run none could ever train.
import type { Redis } from 'ioredis';

import type { DatasetReport } from '../datasets/validate-dataset.js';
import type { Db } from '../db/client.js';
import { listMemoryMeasurements } from '../db/memory-measurements.js';
import { MemoryDoesNotFitError } from '../domain/errors.js';
import {
  calibrate,
  type CalibrationGroup,
  type TunedMargin,
  tunedMargin,
} from '../domain/memory-calibration.js';
import { doesNotFitMessage } from '../domain/run-memory.js';
import type { RunRequest } from '../domain/run-request.js';
import {
  type Admission,
  type AdmissionSubject,
  admit,
  describeRefusals,
  memoryFits,
  WORKER_CHECKS,
} from '../domain/worker-admission.js';
import type { WorkerEntry } from '../domain/worker-entry.js';
import { assessRunMemory, type MemoryAssessment } from '../memory/assess-run-memory.js';
import { localWorkerEntry, workerMemoryOf } from '../memory/worker-memory.js';
import type { Config } from '../shared/config.js';
import { readWorkers } from './worker-status.js';

/** The registry's entries, or null when it cannot be read (Redis down): admission then falls back to this Mac. */
export async function readFleet(deps: { config: Config; redis?: Redis }): Promise<WorkerEntry[] | null> {
  if (!deps.redis) return null;
  return readWorkers(deps.redis, deps.config).catch(() => null);
}

export interface RunAdmission extends Admission {
  /** Why the run was judged against this Mac instead of registered workers; null when workers were judged. */
  fallback: string | null;
}

export interface PlacedAssessment {
  memory: MemoryAssessment;
  admission: RunAdmission;
}

const NO_WORKER =
  'no live worker is registered: checked against this Mac’s memory (WORKER_MEMORY_GB or its RAM); the placement is checked when a worker takes the run';
const NO_REGISTRY =
  'the worker registry could not be read: checked against this Mac’s memory (WORKER_MEMORY_GB or its RAM)';

/**
 * Estimates the run's memory against the workers its placement allows (their largest gets the suggestions), then
 * judges it against every registered worker with WORKER_CHECKS.
 */
export async function assessPlacement(
  request: RunRequest,
  dataset: DatasetReport | null,
  deps: { config: Config; db?: Db },
  fleet: readonly WorkerEntry[] | null,
): Promise<PlacedAssessment> {
  let margin = deps.config.memoryMargin;
  const subject = (estimateGb: number | null): AdmissionSubject => ({ request, estimateGb, margin });
  const placementOnly = WORKER_CHECKS.filter((c) => c !== memoryFits);
  const byPlacement = admit(subject(null), fleet ?? [], placementOnly);
  const live = (fleet ?? []).filter((w) => w.state === 'idle' || w.state === 'training');
  const judged = byPlacement.judged;
  const pool = !judged
    ? [localWorkerEntry(deps.config)]
    : byPlacement.takers.length > 0
      ? byPlacement.takers
      : live;
  const memory = await assessRunMemory(request, dataset, {
    hubCache: deps.config.hfHubCache,
    margin: deps.config.memoryMargin,
    tune: deps.db && deps.config.memoryTuneAfterRuns > 0 ? tuner(deps.db, deps.config) : undefined,
    workers: () => pool.map(workerMemoryOf),
  });
  margin = memory.memory.margin;
  const fallback = judged ? null : fleet === null ? NO_REGISTRY : NO_WORKER;
  if (fallback) memory.memory.notes = [...memory.memory.notes, fallback];
  const estimateGb = memory.memory.estimate_gb;
  const admission: Admission = judged
    ? admit(subject(estimateGb), fleet ?? [])
    : admit(subject(estimateGb), pool, [memoryFits]);
  return { memory, admission: { ...admission, fallback, judged } };
}

/** Calibration groups, recomputed at most every few seconds per database (a sweep prepares hundreds of runs). */
const CALIBRATION_TTL_MS = 1000;
const calibrations = new WeakMap<Db, { at: number; groups: CalibrationGroup[] }>();

function tuner(db: Db, config: Config): (method: string, family: string) => TunedMargin {
  return (method, family) => {
    let c = calibrations.get(db);
    if (!c || Date.now() - c.at > CALIBRATION_TTL_MS) {
      c = { at: Date.now(), groups: calibrate(listMemoryMeasurements(db)) };
      calibrations.set(db, c);
    }
    return tunedMargin(c.groups, method, family, config.memoryMargin, config.memoryTuneAfterRuns);
  };
}

/** Refuses (422) a run no registered worker could ever train, naming each worker's reasons. */
export function assertSomeWorkerCanTake(p: PlacedAssessment, prefix = ''): void {
  const { admission: a, memory: m } = p;
  if (a.takers.length > 0) return;
  const workers = Object.fromEntries(a.refusals.map((r) => [r.worker, r.reasons.join('; ')]));
  if (a.fallback) {
    // This Mac alone was judged, on memory only.
    throw new MemoryDoesNotFitError(
      `${prefix}${doesNotFitMessage(m.memory, m.suggestions)}`,
      m.memory,
      m.suggestions,
    );
  }
  const memoryIsWhy = a.refusals.some(
    (r) => r.reasons.length === 1 && r.reasons[0]!.startsWith('out of memory'),
  );
  const why = `No registered worker could ever train this run: ${describeRefusals(a.refusals)}.`;
  if (memoryIsWhy) {
    throw new MemoryDoesNotFitError(
      `${prefix}${doesNotFitMessage(m.memory, m.suggestions)} ${why}`,
      m.memory,
      m.suggestions,
      workers,
    );
  }
  throw new MemoryDoesNotFitError(`${prefix}${why}`, m.memory, m.suggestions, workers, 'cannot_place');
}
