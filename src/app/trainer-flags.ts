// At submit: which flag set the command is built for, from the live workers' registry entries. A request no usable
// worker's mlx-lm-lora can run is refused by admission (worker-admission.ts, trainerFlags); here it gets warnings.
import { effectiveValue } from '../domain/build-command.js';
import type { FieldIssue } from '../domain/errors.js';
import { type FlagSet, unsupportedBy, VERIFIED_FLAG_SET } from '../domain/flag-set.js';
import type { RunRequest } from '../domain/run-request.js';
import type { WorkerEntry } from '../domain/worker-entry.js';
import { flagSetReason } from '../domain/worker-flag-check.js';

export interface ChosenFlagSet {
  flagSet: FlagSet;
  /** The worker whose flags were used; null for the verified set. */
  worker: string | null;
  warnings: FieldIssue[];
}

export const NO_FLAGS_WARNING =
  'no worker has registered its mlx-lm-lora flags yet: the command was checked against the verified mlx-lm-lora 3.1.2 flag set';

/**
 * Pure: the first taker's flag set, or the verified one when no usable worker published any. Workers that cannot run
 * the request are warned about; when none can, admission refuses the run (the dry run shows these warnings).
 */
export function judgeFlagSets(request: RunRequest, usable: readonly WorkerEntry[]): ChosenFlagSet {
  const judged = usable.filter((w): w is WorkerEntry & { flagSet: FlagSet } => w.flagSet != null);
  if (judged.length === 0)
    return {
      flagSet: VERIFIED_FLAG_SET,
      worker: null,
      warnings: [{ path: 'mlx-lm-lora', message: NO_FLAGS_WARNING }],
    };
  const takers = judged.filter((w) => flagSetReason(request, w) === null);
  const refusals = judged
    .filter((w) => !takers.includes(w))
    .flatMap((w) =>
      unsupportedBy(w.flagSet, request, (o) => effectiveValue(request, o.key, w.flagSet)).map((u) => ({
        path: u.key,
        message: `mlx-lm-lora ${w.flagSet.version ?? '(unknown version)'} on ${w.name} ${u.what}`,
      })),
    );
  const chosen = takers[0] ?? judged[0]!;
  const others = takers.length > 0 ? `; it runs on ${takers.map((w) => w.name).join(', ')}` : '';
  return {
    flagSet: chosen.flagSet,
    worker: chosen.name,
    warnings: refusals.map((r) => ({ ...r, message: r.message + others })),
  };
}
