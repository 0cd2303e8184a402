// Pure: where a run may train: its `placement` request, the requirement it makes of a worker, and the queue it waits in.
import { z } from 'zod';

import { usableFromRam } from './memory-advice.js';
import type { WorkerEntry } from './worker-entry.js';

const label = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[\w.:/=+-]+$/, 'letters, digits and . _ : / = + - only');

/** `placement` on a run or a sweep's base: train only on this worker / one with ≥ N GB of RAM / with all these labels. */
export const placementSchema = z.strictObject({
  worker: z.string().trim().min(1).max(200).optional(),
  min_memory_gb: z.number().positive().max(100_000).optional(),
  labels: z.array(label).max(32).optional(),
});
export type Placement = z.infer<typeof placementSchema>;

/** What a worker must offer to train a run; an empty requirement is met by every worker. */
export interface Requirement {
  worker?: string;
  /** The worker's memory (WORKER_MEMORY_GB or RAM) in GB: placement.min_memory_gb. */
  minTotalGb?: number;
  /** The worker's usable memory in GB: the run's estimate × margin, floored to a whole GB (so runs share queues). */
  minUsableGb?: number;
  labels?: string[];
}

/** The requirement of a run, from its placement and its memory estimate (null when there is none). */
export function requirementOf(
  placement: Placement | undefined,
  estimateGb: number | null,
  margin: number,
): Requirement {
  const r: Requirement = {};
  if (placement?.worker) r.worker = placement.worker;
  if (placement?.min_memory_gb) r.minTotalGb = placement.min_memory_gb;
  if (placement?.labels?.length) r.labels = [...new Set(placement.labels)].sort();
  const need = estimateGb === null ? 0 : Math.floor(estimateGb * margin);
  if (need >= 1) r.minUsableGb = need;
  return r;
}

export function isUnconstrained(r: Requirement): boolean {
  return (
    r.worker === undefined &&
    r.minTotalGb === undefined &&
    r.minUsableGb === undefined &&
    r.labels === undefined
  );
}

export const gbOf = (bytes: number) => Math.round((bytes / 1e9) * 100) / 100;

/** The memory a worker can give a run: Metal's recommended working set, as the documented fraction of its RAM. */
export function usableGbOf(w: Pick<WorkerEntry, 'totalMemoryBytes'>): number {
  return usableFromRam(w.totalMemoryBytes);
}

/** Whether a worker offers what the requirement asks (its state aside). */
export function satisfies(
  r: Requirement,
  w: Pick<WorkerEntry, 'name' | 'totalMemoryBytes' | 'labels'>,
): boolean {
  if (r.worker !== undefined && r.worker !== w.name) return false;
  if (r.minTotalGb !== undefined && gbOf(w.totalMemoryBytes) < r.minTotalGb) return false;
  if (r.minUsableGb !== undefined && usableGbOf(w) < r.minUsableGb) return false;
  return (r.labels ?? []).every((l) => (w.labels ?? []).includes(l));
}

/** "a worker with ≥ 64 GB usable and labels gpu" — the words of a waiting run's reason. */
export function describeRequirement(r: Requirement): string {
  if (r.worker !== undefined) return `worker ${r.worker}`;
  const parts: string[] = [];
  if (r.minUsableGb !== undefined) parts.push(`≥ ${r.minUsableGb} GB usable`);
  if (r.minTotalGb !== undefined) parts.push(`≥ ${r.minTotalGb} GB of memory`);
  if (r.labels?.length) parts.push(`label${r.labels.length > 1 ? 's' : ''} ${r.labels.join(', ')}`);
  return parts.length ? `a worker with ${parts.join(' and ')}` : 'any worker';
}

/** The shared queue: runs every worker can take. */
export const SHARED_RUNS_QUEUE = 'runs';

/**
 * The BullMQ queue a run's train jobs wait in: the shared one when anything can take it, else one queue per distinct
 * requirement (readable name plus a hash of the requirement), polled only by the workers that meet it.
 */
export function queueNameFor(r: Requirement): string {
  if (isUnconstrained(r)) return SHARED_RUNS_QUEUE;
  const canonical = JSON.stringify([
    r.worker ?? null,
    r.minTotalGb ?? null,
    r.minUsableGb ?? null,
    r.labels ?? [],
  ]);
  const readable = [
    r.worker !== undefined ? `w.${r.worker}` : '',
    r.minUsableGb !== undefined ? `u${r.minUsableGb}` : '',
    r.minTotalGb !== undefined ? `m${r.minTotalGb}` : '',
    r.labels?.length ? `l.${r.labels.join('+')}` : '',
  ]
    .filter(Boolean)
    .join('-')
    .replace(/[^\w.+=-]/g, '_')
    .slice(0, 80);
  return `runs-${readable}-${fnv1a(canonical)}`;
}

/** 32-bit FNV-1a as 8 hex digits: enough to tell requirements apart in a queue name. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
