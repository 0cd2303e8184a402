// At submit: which flag set the command is built for, read from the live workers' registry entries; a request that no
// usable worker's installed mlx-lm-lora can run is refused, naming the option, the worker and the version.
import type { Redis } from 'ioredis';

import { type FieldIssue, RequestValidationError } from '../domain/errors.js';
import { effectiveValue } from '../domain/build-command.js';
import { type FlagSet, unsupportedBy, VERIFIED_FLAG_SET } from '../domain/flag-set.js';
import type { RunRequest } from '../domain/run-request.js';
import { isUsable, type WorkerEntry } from '../domain/worker-entry.js';
import { flagSetReason } from '../domain/worker-flag-check.js';
import type { Config } from '../shared/config.js';
import { readWorkers } from './worker-status.js';

export interface ChosenFlagSet {
  flagSet: FlagSet;
  /** The worker whose flags were used; null for the verified set. */
  worker: string | null;
  warnings: FieldIssue[];
}

export const NO_FLAGS_WARNING =
  'no worker has registered its mlx-lm-lora flags yet: the command was checked against the verified mlx-lm-lora 3.1.2 flag set';

/** One registry read serves a burst of submits (a sweep validates up to 1000 requests). */
const FLEET_TTL_MS = 500;
const fleets = new WeakMap<Redis, { at: number; entries: Promise<WorkerEntry[] | null> }>();

function readFleet(redis: Redis, prefix: string): Promise<WorkerEntry[] | null> {
  const cached = fleets.get(redis);
  if (cached && Date.now() - cached.at < FLEET_TTL_MS) return cached.entries;
  // Redis down: the registry is unknown, and the run is checked against the verified set (with the warning).
  const entries = readWorkers(redis, prefix).catch(() => null);
  fleets.set(redis, { at: Date.now(), entries });
  return entries;
}

export async function chooseFlagSet(request: RunRequest, deps: { config: Config; redis?: Redis }): Promise<ChosenFlagSet> {
  const entries = deps.redis ? await readFleet(deps.redis, deps.config.queuePrefix) : null;
  return judgeFlagSets(request, (entries ?? []).filter(isUsable));
}

/** Pure: the takers' first flag set, or the verified one when no usable worker published any; throws when none can run it. */
export function judgeFlagSets(request: RunRequest, usable: readonly WorkerEntry[]): ChosenFlagSet {
  const judged = usable.filter((w): w is WorkerEntry & { flagSet: FlagSet } => w.flagSet != null);
  if (judged.length === 0) return { flagSet: VERIFIED_FLAG_SET, worker: null, warnings: [{ path: 'mlx-lm-lora', message: NO_FLAGS_WARNING }] };
  const takers = judged.filter((w) => flagSetReason(request, w) === null);
  const refusals = judged
    .filter((w) => !takers.includes(w))
    .flatMap((w) =>
      unsupportedBy(w.flagSet, request, (o) => effectiveValue(request, o.key, w.flagSet)).map((u) => ({
        path: u.key,
        message: `mlx-lm-lora ${w.flagSet.version ?? '(unknown version)'} on ${w.name} ${u.what}`,
      })),
    );
  const first = takers[0];
  if (first === undefined) throw new RequestValidationError(refusals);
  const others = takers.length > 0 ? `; it runs on ${takers.map((w) => w.name).join(', ')}` : '';
  return { flagSet: first.flagSet, worker: first.name, warnings: refusals.map((r) => ({ ...r, message: r.message + others })) };
}
