// What a worker tells the registry about its Mac: chip, OS release, memory (WORKER_MEMORY_GB or RAM), labels, free disk.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import { promisify } from 'node:util';

import type { WorkerEntry } from '../domain/worker-entry.js';
import type { Config } from '../shared/config.js';

const run = promisify(execFile);

/** The facts that do not change while the worker runs (read once at start). */
export type MachineFacts = Pick<WorkerEntry, 'totalMemoryBytes' | 'memorySource' | 'labels' | 'chip' | 'os'>;

async function firstLine(cmd: string, args: string[]): Promise<string | null> {
  try {
    const { stdout } = await run(cmd, args, { timeout: 2000 });
    return stdout.trim().split('\n', 1)[0] || null;
  } catch {
    // Handled: the tool is missing (not a Mac) or failed; the caller falls back to what Node knows.
    return null;
  }
}

export async function readMachineFacts(config: Config): Promise<MachineFacts> {
  const mac = process.platform === 'darwin';
  const chip =
    (mac ? await firstLine('sysctl', ['-n', 'machdep.cpu.brand_string']) : null) ??
    os.cpus()[0]?.model.trim() ??
    null;
  const macos = mac ? await firstLine('sw_vers', ['-productVersion']) : null;
  return {
    totalMemoryBytes: config.workerMemoryBytes,
    memorySource: config.workerMemoryFromEnv ? 'WORKER_MEMORY_GB' : 'ram',
    labels: [...config.workerLabels],
    chip,
    os: macos ? `macOS ${macos}` : `${os.platform()} ${os.release()}`,
  };
}

/** Free bytes on the disk that holds `dir` (the worker's DATA_DIR); null when it cannot be read. */
export async function freeDiskBytes(dir: string): Promise<number | null> {
  try {
    const s = await fs.statfs(dir);
    return s.bavail * s.bsize;
  } catch {
    // Handled: reported as unknown (null) rather than failing the heartbeat.
    return null;
  }
}
