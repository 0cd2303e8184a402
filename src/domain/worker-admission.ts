// Pure: which registered workers could ever train a run, and why each other one cannot. Used at submit (422 when
// none can) and by a worker at start-up (it hands back a run it cannot take instead of failing it).
//
// Adding a check (e.g. the installed trainer's flag set): write a WorkerCheck and add it to WORKER_CHECKS. It gets the
// run's request and estimate and one worker's registry entry, and answers null (this worker can take it) or the
// reason it cannot, worded to follow the worker's name ("studio-1: <reason>").
import { fitOn } from './memory-advice.js';
import { isMethod } from './methods.js';
import {
  describeRequirement,
  gbOf,
  isUnconstrained,
  type Placement,
  type Requirement,
  usableGbOf,
} from './placement.js';
import type { RunRequest } from './run-request.js';
import { describeWorkerState, isUsable, type WorkerEntry } from './worker-entry.js';
import { flagSetReason } from './worker-flag-check.js';

export interface AdmissionSubject {
  /** The run request (its `placement`, and whatever else a check reads). */
  request: { placement?: Placement; [key: string]: unknown };
  /** The peak-memory estimate in GB, null when there is none (then memory is not checked). */
  estimateGb: number | null;
  /** MEMORY_MARGIN: estimate × margin must fit a worker's usable memory. */
  margin: number;
}

export type WorkerCheck = (subject: AdmissionSubject, worker: WorkerEntry) => string | null;

export const pinnedWorker: WorkerCheck = ({ request }, w) => {
  const pinned = request.placement?.worker;
  return pinned !== undefined && pinned !== w.name
    ? `not the pinned worker (placement.worker is ${pinned})`
    : null;
};

export const requiredLabels: WorkerCheck = ({ request }, w) => {
  const missing = (request.placement?.labels ?? []).filter((l) => !(w.labels ?? []).includes(l));
  if (missing.length === 0) return null;
  return `lacks label${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (has ${w.labels?.length ? w.labels.join(', ') : 'none'})`;
};

export const minMemory: WorkerCheck = ({ request }, w) => {
  const min = request.placement?.min_memory_gb;
  if (min === undefined || gbOf(w.totalMemoryBytes) >= min) return null;
  return `has ${gbOf(w.totalMemoryBytes)} GB of memory, placement.min_memory_gb asks for ≥ ${min} GB`;
};

export const memoryFits: WorkerCheck = ({ estimateGb, margin }, w) => {
  if (estimateGb === null) return null;
  const usable = usableGbOf(w);
  if (fitOn(estimateGb, usable, margin) !== 'no') return null;
  const need = Math.round(estimateGb * margin * 100) / 100;
  return `out of memory: the run needs about ${estimateGb} GB × margin ${margin} = ${need} GB, it can use ${usable} GB (of ${gbOf(w.totalMemoryBytes)} GB)`;
};

/** Every check, in the order their reasons are listed. */
/** The request needs an option (or choice) the worker's installed mlx-lm-lora lacks (issue 13; worker-flag-check.ts). */
export const trainerFlags: WorkerCheck = ({ request }, w) =>
  isMethod(request.method) ? flagSetReason(request as RunRequest, w) : null;

export const WORKER_CHECKS: readonly WorkerCheck[] = [
  pinnedWorker,
  requiredLabels,
  minMemory,
  memoryFits,
  trainerFlags,
];

/** Why this worker cannot train the run (empty: it can), its state aside. */
export function reasonsAgainst(
  subject: AdmissionSubject,
  worker: WorkerEntry,
  checks: readonly WorkerCheck[] = WORKER_CHECKS,
): string[] {
  return checks.map((check) => check(subject, worker)).filter((r): r is string => r !== null);
}

export interface Admission {
  /** Live, usable workers that can train the run. */
  takers: WorkerEntry[];
  /** Every other registered worker, with its reasons (its state when it is lost, unusable or stopping). */
  refusals: { worker: string; reasons: string[] }[];
  /** Some live worker was judged; false means none is registered (the caller falls back to this Mac). */
  judged: boolean;
  /** No taker, and every live worker's only reason is memory: the request may be changed to fit. */
  memoryOnly: boolean;
}

/** Judges the run against every registered worker; only live, usable ones can be takers. */
export function admit(
  subject: AdmissionSubject,
  entries: readonly WorkerEntry[],
  checks: readonly WorkerCheck[] = WORKER_CHECKS,
): Admission {
  const takers: WorkerEntry[] = [];
  const refusals: Admission['refusals'] = [];
  let live = 0;
  let memoryOnly = true;
  for (const w of entries) {
    if (!isUsable(w)) {
      refusals.push({ worker: w.name, reasons: [describeWorkerState(w)] });
      continue;
    }
    live++;
    const reasons = reasonsAgainst(subject, w, checks);
    if (reasons.length === 0) takers.push(w);
    else {
      refusals.push({ worker: w.name, reasons });
      if (reasons.some((r) => r !== memoryFits(subject, w))) memoryOnly = false;
    }
  }
  return { takers, refusals, judged: live > 0, memoryOnly: takers.length === 0 && live > 0 && memoryOnly };
}

/** "studio-1: lacks label gpu; mini-1: out of memory: …" */
export function describeRefusals(refusals: Admission['refusals']): string {
  return refusals.map((r) => `${r.worker}: ${r.reasons.join('; ')}`).join(' | ');
}

/** The admission subject of a stored run: its request and the estimate and margin recorded at submit. */
export function subjectOfRun(
  run: {
    request: AdmissionSubject['request'];
    memory: { estimate_gb: number | null; margin: number } | null;
  },
  margin: number,
): AdmissionSubject {
  return {
    request: run.request,
    estimateGb: run.memory?.estimate_gb ?? null,
    margin: run.memory?.margin ?? margin,
  };
}

/**
 * Why a queued run with a placement or a memory need is not training, e.g. "waiting for a worker with ≥ 64 GB usable:
 * studio-1 busy with run_…"; null when a live worker that can take it is idle (it is about to). Unconstrained runs:
 * null (see waitingReason for the no-usable-worker case).
 */
export function placementWaiting(
  subject: AdmissionSubject,
  requirement: Requirement,
  entries: readonly WorkerEntry[],
): string | null {
  if (isUnconstrained(requirement)) return null;
  const a = admit(subject, entries);
  const what = `waiting for ${describeRequirement(requirement)}`;
  if (a.takers.some((w) => w.state === 'idle')) return null;
  if (a.takers.length > 0)
    return `${what}: ${a.takers.map((w) => `${w.name} busy with ${w.runId ?? 'another job'}`).join(', ')}`;
  if (entries.length === 0) return `${what}: no worker is running`;
  return `${what}: no live worker can take it now; ${describeRefusals(a.refusals)}`;
}
