// What a run trains with on this worker (sent with each attempt's start and recorded on the run), from its preflight.
import type { FlagSet } from '../domain/flag-set.js';
import { VERIFIED_FLAG_SET } from '../domain/flag-set.js';
import type { RunEnvironment } from '../domain/run-environment.js';
import type { TrainerEnvironment, TrainerVersions } from './preflight.js';

export interface WorkerPreflight {
  version: string | null;
  error: string | null;
  flagSet?: FlagSet | null;
  environment?: TrainerEnvironment | null;
  versions?: TrainerVersions;
}

export function runEnvironment(worker: string, p: WorkerPreflight): RunEnvironment {
  return {
    worker,
    python: p.versions?.python ?? null,
    mlx: p.versions?.mlx ?? null,
    mlxLm: p.versions?.mlxLm ?? null,
    mlxLmLora: p.versions?.mlxLmLora ?? p.version,
    os: p.environment?.os ?? null,
    chip: p.environment?.chip ?? null,
    memoryBytes: p.environment?.memoryBytes ?? null,
    flagSet: p.flagSet
      ? { version: p.flagSet.version, source: p.flagSet.source }
      : { version: VERIFIED_FLAG_SET.version, source: 'verified' },
  };
}
