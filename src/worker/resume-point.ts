// Finds the newest numbered checkpoint in a run's adapter folder, the point a resumed attempt starts from.
import fs from 'node:fs/promises';
import path from 'node:path';

const CHECKPOINT = /^(\d{7})_adapters\.safetensors$/;

export interface ResumePoint {
  adapterFile: string;
  iteration: number;
}

export async function listCheckpoints(adapterPath: string): Promise<ResumePoint[]> {
  const names = await fs.readdir(adapterPath).catch(() => [] as string[]);
  return names
    .map((n) => ({ n, m: CHECKPOINT.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .map(({ n, m }) => ({ adapterFile: path.join(adapterPath, n), iteration: Number(m[1]) }))
    .sort((a, b) => a.iteration - b.iteration);
}

export async function newestCheckpoint(adapterPath: string): Promise<ResumePoint | null> {
  const all = await listCheckpoints(adapterPath);
  return all.at(-1) ?? null;
}
