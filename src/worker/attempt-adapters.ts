// Where a resumed attempt writes its adapters, and how its files join the run's adapter folder afterwards.
//
// A resumed trainer counts iterations from 1 again and names its checkpoints so (0000005_… is the run's iteration
// 5 + offset). Written straight into adapters/ they would overwrite older checkpoints and, after a crash, be taken for
// the wrong iteration. So a resumed attempt writes into adapters/attempt-<n>/, which holds only its own files, and
// those are moved up afterwards under the run's iteration numbers: at the end of the attempt, or, when the worker
// died, at the start of the next one (the attempt's offset is its recorded start iteration).
import fs from 'node:fs/promises';
import path from 'node:path';

import { flagArg } from '../domain/build-command.js';

const CHECKPOINT = /^(\d{7})_adapters\.safetensors$/;
const ATTEMPT_DIR = /^attempt-(\d+)$/;

export function attemptAdapterDir(adapters: string, attempt: number): string {
  return path.join(adapters, `attempt-${attempt}`);
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
    const m = CHECKPOINT.exec(name);
    const target = m ? `${String(Number(m[1]) + offset).padStart(7, '0')}_adapters.safetensors` : name;
    await fs.rm(path.join(adapters, target), { recursive: true, force: true });
    await fs.rename(path.join(dir, name), path.join(adapters, target));
  }
  await fs.rm(dir, { recursive: true, force: true });
}

/** Settles the folders that attempts of a worker that died left behind; `offsetOf` gives an attempt's start. */
export async function settleLeftoverAttemptDirs(adapters: string, offsetOf: (attempt: number) => number | null): Promise<void> {
  const names = await fs.readdir(adapters).catch(() => [] as string[]);
  const leftover = names
    .map((n) => ({ n, m: ATTEMPT_DIR.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .map(({ n, m }) => ({ dir: path.join(adapters, n), attempt: Number(m[1]) }))
    .sort((a, b) => a.attempt - b.attempt);
  for (const { dir, attempt } of leftover) {
    const offset = offsetOf(attempt);
    // Without a recorded start the numbers cannot be placed; the folder stays for a person to look at.
    if (offset !== null) await settleAttemptDir(adapters, dir, offset);
  }
}
