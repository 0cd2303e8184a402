// Finds the newest numbered checkpoint in a run's adapter folder, the point a resumed attempt starts from.
import fs from 'node:fs/promises';
import path from 'node:path';

import { checkpointIteration } from '../domain/checkpoint-names.js';

export interface ResumePoint {
  adapterFile: string;
  iteration: number;
}

/**
 * No folder means no checkpoint yet; any other error (EACCES, EIO) is thrown: a run whose checkpoints cannot be
 * read must not silently start again from iteration 0.
 */
export async function listCheckpoints(adapterPath: string): Promise<ResumePoint[]> {
  const names = await fs.readdir(adapterPath).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw new Error(
      `the checkpoint folder ${adapterPath} cannot be read (${e.code ?? e.message}); the run is not restarted from iteration 0`,
      { cause: e },
    );
  });
  return names
    .map((n) => ({ n, iteration: checkpointIteration(n) }))
    .filter((x): x is { n: string; iteration: number } => x.iteration !== null)
    .map(({ n, iteration }) => ({ adapterFile: path.join(adapterPath, n), iteration }))
    .sort((a, b) => a.iteration - b.iteration);
}

export async function newestCheckpoint(adapterPath: string): Promise<ResumePoint | null> {
  const all = await listCheckpoints(adapterPath);
  return all.at(-1) ?? null;
}
