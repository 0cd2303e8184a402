// A worker's registry entry (who it is, what it trains with, whether it can take work) and why a run waits.
import { z } from 'zod';

import { flagSetSchema } from './flag-set.js';

/** What a worker publishes; `lost` is never published: the API shows it for an entry silent past WORKER_LOST_S. */
export const WORKER_STATES = ['idle', 'training', 'unusable', 'stopping', 'lost'] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

/**
 * The entry each worker publishes with every heartbeat. Extensible on purpose: add a field as optional here (a
 * worker of an older version leaves it out), e.g. the trainer's flag set, labels, placement, free memory. Fields
 * this version does not know are kept, so an older API lists a newer worker's entry whole.
 */
export const workerEntrySchema = z.looseObject({
  /** WORKER_NAME, else host:pid; unique among live workers. */
  name: z.string().min(1),
  host: z.string(),
  pid: z.number().int(),
  versions: z.looseObject({
    python: z.string().nullable(),
    mlx: z.string().nullable(),
    mlxLm: z.string().nullable(),
    mlxLmLora: z.string().nullable(),
  }),
  /** The Mac's memory as admission sees it: WORKER_MEMORY_GB when set, else its RAM. */
  totalMemoryBytes: z.number().nonnegative(),
  /** Where totalMemoryBytes came from. */
  memorySource: z.enum(['WORKER_MEMORY_GB', 'ram']).optional(),
  /** WORKER_LABELS: what `placement.labels` may ask for. */
  labels: z.array(z.string()).optional(),
  /** e.g. "Apple M2 Ultra" (sysctl machdep.cpu.brand_string), else the CPU model. */
  chip: z.string().nullable().optional(),
  /** e.g. "macOS 14.5"; on another system its name and release, e.g. "linux 6.1.0". */
  os: z.string().nullable().optional(),
  /** Free space on the worker's DATA_DIR disk; null when it cannot be read. */
  freeDiskBytes: z.number().nonnegative().nullable().optional(),
  state: z.enum(WORKER_STATES),
  /** While training: the run. */
  runId: z.string().nullable().optional(),
  /** While unusable: why, with what to do about it. */
  reason: z.string().nullable().optional(),
  startedAt: z.number(),
  lastSeen: z.number(),
  /** The installed trainer's flags as its preflight read them (absent from workers that do not publish them). */
  flagSet: flagSetSchema.nullable().optional(),
  /** Where runs train: OS, chip and memory besides the versions (recorded on each run it trains). */
  environment: z
    .looseObject({
      os: z.string().nullable(),
      chip: z.string().nullable(),
      memoryBytes: z.number().nullable(),
    })
    .nullable()
    .optional(),
});
export type WorkerEntry = z.infer<typeof workerEntrySchema>;

/** `idle`, `training <run>`, `unusable: <reason>` or `stopping`. */
export function describeWorkerState(e: Pick<WorkerEntry, 'state' | 'runId' | 'reason'>): string {
  switch (e.state) {
    case 'idle':
    case 'stopping':
      return e.state;
    case 'training':
      return `training ${e.runId ?? ''}`.trim();
    case 'unusable':
      return `unusable: ${e.reason ?? 'unknown reason'}`;
    case 'lost':
      return `lost: ${e.reason ?? 'silent'}`;
  }
}

/**
 * Entries as the API shows them at `now`: one not refreshed for `lostMs` (WORKER_LOST_S) is `lost`, with how long it
 * has been silent and what it was doing, and takes no part in placement until it beats again.
 */
export function markLost(entries: readonly WorkerEntry[], now: number, lostMs: number): WorkerEntry[] {
  return entries.map((e) => {
    const silentMs = now - e.lastSeen;
    if (silentMs <= lostMs) return e;
    const was = describeWorkerState(e);
    return {
      ...e,
      state: 'lost' as const,
      reason: `silent for ${Math.round(silentMs / 1000)} s (last seen ${was})`,
    };
  });
}

/** A worker that takes jobs: idle or training (a training one takes the next run when it is done). */
export function isUsable(e: Pick<WorkerEntry, 'state'>): boolean {
  return e.state === 'idle' || e.state === 'training';
}

/**
 * Why a queued run waits when no live worker can take it, e.g. "waiting: no usable worker; vm-1: mlx-lm-lora
 * not installed (...)"; null when a usable worker is registered (the run simply waits its turn).
 */
export function waitingReason(
  entries: readonly Pick<WorkerEntry, 'name' | 'state' | 'runId' | 'reason'>[],
): string | null {
  if (entries.some(isUsable)) return null;
  if (entries.length === 0)
    return 'waiting: no worker is running (start one with `npm run worker` or `npm start`)';
  const why = entries.map(
    (e) => `${e.name}: ${e.state === 'unusable' ? (e.reason ?? 'unusable') : describeWorkerState(e)}`,
  );
  return `waiting: no usable worker; ${why.join('; ')}`;
}
