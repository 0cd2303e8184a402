// The memory each worker can use for training, as admission sees it.
import os from 'node:os';

import { bytesToGb, usableFromRam, type WorkerMemory } from '../domain/memory-advice.js';
import type { Config } from '../shared/config.js';

/**
 * This Mac's worker: WORKER_MEMORY_GB or the machine's RAM, of which Metal's recommended working set (⅔ up to
 * 36 GB, ¾ above) is usable. The API and its workers share one DATA_DIR and so one Mac (see the README).
 */
export function localWorkerMemory(config: Config): WorkerMemory[] {
  return [
    {
      worker: os.hostname(),
      totalGb: bytesToGb(config.workerMemoryBytes),
      usableGb: usableFromRam(config.workerMemoryBytes),
      source: 'fraction_of_ram',
    },
  ];
}
