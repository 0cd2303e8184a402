// The memory each worker can use for training, as admission sees it: the registered workers' entries, or this Mac's.
import os from 'node:os';

import { bytesToGb, usableFromRam, type WorkerMemory } from '../domain/memory-advice.js';
import type { WorkerEntry } from '../domain/worker-entry.js';
import type { Config } from '../shared/config.js';

/** A registered worker's memory: WORKER_MEMORY_GB or its RAM, of which Metal's recommended working set is usable. */
export function workerMemoryOf(e: Pick<WorkerEntry, 'name' | 'totalMemoryBytes'>): WorkerMemory {
  return {
    worker: e.name,
    totalGb: bytesToGb(e.totalMemoryBytes),
    usableGb: usableFromRam(e.totalMemoryBytes),
    source: 'fraction_of_ram',
  };
}

/**
 * This Mac as a worker, when no worker is registered: WORKER_MEMORY_GB or the machine's RAM, of which Metal's
 * recommended working set (⅔ up to 36 GB, ¾ above) is usable.
 */
export function localWorkerMemory(config: Config): WorkerMemory[] {
  return [workerMemoryOf({ name: os.hostname(), totalMemoryBytes: config.workerMemoryBytes })];
}

/** This Mac as a registry entry, to judge a run against when no live worker is registered. */
export function localWorkerEntry(config: Config): WorkerEntry {
  const now = Date.now();
  return {
    name: os.hostname(),
    host: os.hostname(),
    pid: process.pid,
    versions: { python: null, mlx: null, mlxLm: null, mlxLmLora: null },
    totalMemoryBytes: config.workerMemoryBytes,
    labels: [...config.workerLabels],
    state: 'idle',
    startedAt: now,
    lastSeen: now,
  };
}
