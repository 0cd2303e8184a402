// Pure per-worker admission check: can this worker's installed mlx-lm-lora take the request's options?
import { effectiveValue } from './build-command.js';
import { describeUnsupported, type FlagSet, unsupportedBy } from './flag-set.js';
import type { RunRequest } from './run-request.js';

export interface FlagSetWorker {
  name: string;
  /** Published by the worker's preflight; absent for a worker that did not (an older version): not judged. */
  flagSet?: FlagSet | null;
}

/**
 * Why this worker's trainer cannot run the request ("importance_sampling_level: mlx-lm-lora 0.7.0 on vm-1 has no
 * --importance-sampling-level"; several joined by "; "), or null when it can. Shaped (request, worker) → reason | null
 * to sit beside the other per-worker admission checks.
 */
export function flagSetReason(request: RunRequest, worker: FlagSetWorker): string | null {
  const set = worker.flagSet;
  if (!set) return null;
  const missing = unsupportedBy(set, request, (o) => effectiveValue(request, o.key, set));
  return missing.length === 0
    ? null
    : missing.map((u) => describeUnsupported(u, set, worker.name)).join('; ');
}
