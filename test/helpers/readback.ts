// Reads argvs and config.yaml texts back the way mlx-lm-lora does (stand-in argparse, PyYAML), batched in one Python.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa } from 'execa';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));

export interface ParsedArgv {
  ok: boolean;
  error?: string[];
  args?: Record<string, unknown>;
  types?: Record<string, string>;
}

export interface LoadedYaml {
  safe_load: boolean;
  upstream: boolean;
  got?: string;
  error?: string;
}

export interface Readback {
  argvs: ParsedArgv[];
  yamls: LoadedYaml[];
}

/**
 * Parses each argv (the trainer's arguments, after `-m mlx_lm_lora.train`) with the stand-in's build_parser(),
 * and loads each YAML text with yaml.safe_load and upstream's loader, comparing it strictly with `expected`.
 */
export async function readBack(input: {
  argvs?: string[][];
  yamls?: { text: string; expected: unknown }[];
}): Promise<Readback> {
  const r = await execa('python3', [path.join(FIXTURES, 'readback.py')], {
    input: JSON.stringify(input),
    env: { PYTHONPATH: FIXTURES, PYTHONIOENCODING: 'utf-8', PYTHONUTF8: '1', PYTHONDONTWRITEBYTECODE: '1' },
    timeout: 60_000,
    reject: false,
  });
  if (r.exitCode !== 0) throw new Error(`readback.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Readback;
}

/** The trainer's own arguments from a built argv (drops `python -m mlx_lm_lora.train`). */
export function trainerArgs(argv: readonly string[]): string[] {
  const i = argv.indexOf('mlx_lm_lora.train');
  return argv.slice(i + 1);
}
