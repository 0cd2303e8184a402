// A worker's registry entry (who it is, what it trains with, whether it can take work) and why a run waits.
import { z } from 'zod';

import { flagSetSchema } from './flag-set.js';

export const WORKER_STATES = ['idle', 'training', 'unusable', 'stopping'] as const;
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
  totalMemoryBytes: z.number().nonnegative(),
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
  environment: z.looseObject({ os: z.string().nullable(), chip: z.string().nullable(), memoryBytes: z.number().nullable() }).nullable().optional(),
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
  }
}

/** A worker that takes jobs: idle or training (a training one takes the next run when it is done). */
export function isUsable(e: Pick<WorkerEntry, 'state'>): boolean {
  return e.state === 'idle' || e.state === 'training';
}

/**
 * Why a queued run waits when no live worker can take it, e.g. "waiting: no usable worker; vm-1: mlx-lm-lora
 * not installed (...)"; null when a usable worker is registered (the run simply waits its turn).
 */
export function waitingReason(entries: readonly Pick<WorkerEntry, 'name' | 'state' | 'runId' | 'reason'>[]): string | null {
  if (entries.some(isUsable)) return null;
  if (entries.length === 0) return 'waiting: no worker is running (start one with `npm run worker` or `npm start`)';
  const why = entries.map((e) => `${e.name}: ${e.state === 'unusable' ? (e.reason ?? 'unusable') : describeWorkerState(e)}`);
  return `waiting: no usable worker; ${why.join('; ')}`;
}
