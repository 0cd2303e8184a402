// Where a resumed attempt writes its adapters, and how its files join the run's adapter folder afterwards.
//
// A resumed trainer counts iterations from 1 again and names its checkpoints so (0000005_… is the run's iteration
// 5 + offset). Written straight into adapters/ they would overwrite older checkpoints and, after a crash, be taken for
// the wrong iteration. So a resumed attempt writes into adapters/attempt-<n>/, which holds only its own files, and
// those are moved up afterwards under the run's iteration numbers: at the end of the attempt, or, when the worker
// died, at the start of the next one on this worker (the attempt's offset is in a marker file inside its folder).
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

import { flagArg } from '../domain/build-command.js';
import { checkpointFileName, checkpointIteration } from '../domain/checkpoint-names.js';
import { attemptOfDirName } from '../domain/run-folder.js';

/** Inside an attempt folder: the run's iteration the attempt started from (its checkpoints' offset). */
const START_MARKER = '.mlxq-start-iteration';

/** Records an attempt folder's offset in it, so a later attempt can settle it without asking anyone. */
export function markAttemptDir(dir: string, offset: number): void {
  fsSync.writeFileSync(path.join(dir, START_MARKER), String(offset));
}

async function markedOffset(dir: string): Promise<number | null> {
  const text = await fs.readFile(path.join(dir, START_MARKER), 'utf8').catch(() => null);
  const n = text === null ? Number.NaN : Number.parseInt(text, 10);
  return Number.isInteger(n) && n >= 0 ? n : null;
}

/** The argv with its --adapter-path value replaced (written `--adapter-path=dir`, or as two elements by older runs). */
export function withAdapterPath(argv: readonly string[], dir: string): string[] {
  const joined = argv.findIndex((a) => a.startsWith('--adapter-path='));
  if (joined >= 0) return argv.map((a, i) => (i === joined ? flagArg('--adapter-path', dir) : a));
  const i = argv.indexOf('--adapter-path');
  if (i < 0 || i + 1 >= argv.length) throw new Error('the trainer command has no --adapter-path');
  return [...argv.slice(0, i + 1), dir, ...argv.slice(i + 2)];
}

/**
 * Moves an attempt folder's files into the run's adapter folder: checkpoints renamed to iteration + offset, the
 * rest (adapters.safetensors, adapter_config.json, a fused model) replacing the older copies; then removes it.
 */
export async function settleAttemptDir(adapters: string, dir: string, offset: number): Promise<void> {
  const names = await fs.readdir(dir).catch(() => null);
  if (names === null) return;
  for (const name of names) {
    if (name === START_MARKER) continue;
    const iteration = checkpointIteration(name);
    const target = iteration === null ? name : checkpointFileName(iteration + offset);
    await fs.rm(path.join(adapters, target), { recursive: true, force: true });
    await fs.rename(path.join(dir, name), path.join(adapters, target));
  }
  await fs.rm(dir, { recursive: true, force: true });
}

/** Settles the folders that attempts of a worker that died left behind; each says its start in its marker file. */
export async function settleLeftoverAttemptDirs(adapters: string): Promise<void> {
  const names = await fs.readdir(adapters).catch(() => [] as string[]);
  const leftover = names
    .map((n) => ({ n, attempt: attemptOfDirName(n) }))
    .filter((x): x is { n: string; attempt: number } => x.attempt !== null)
    .map(({ n, attempt }) => ({ dir: path.join(adapters, n), attempt }))
    .sort((a, b) => a.attempt - b.attempt);
  for (const { dir } of leftover) {
    const offset = await markedOffset(dir);
    // Without a recorded start the numbers cannot be placed; the folder stays for a person to look at.
    if (offset !== null) await settleAttemptDir(adapters, dir, offset);
  }
}
