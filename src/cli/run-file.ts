// Reads a run (or sweep) file given on the command line: YAML as mlx-lm-lora writes it, or a JSON request.
import fs from 'node:fs';
import path from 'node:path';

import { CliError } from './cli-io.js';
import { rebaseObject, rebaseYamlText } from './rebase-paths.js';

export type RunFile =
  | { kind: 'yaml'; path: string; label: string; text: string }
  | { kind: 'json'; path: string; label: string; value: unknown };

export const pathExists = (p: string) => fs.existsSync(p);

export function isYamlName(file: string, text: string): boolean {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.yaml' || ext === '.yml') return true;
  if (ext === '.json') return false;
  return !text.trimStart().startsWith('{');
}

/** JSON.parse's "at position N" turned into a line number. */
export function jsonError(label: string, text: string, e: unknown): CliError {
  const msg = e instanceof Error ? e.message : String(e);
  const pos = /position (\d+)/.exec(msg)?.[1];
  const line = pos === undefined ? undefined : text.slice(0, Number(pos)).split('\n').length;
  return new CliError(`${label}${line ? `:${line}` : ''}: not valid JSON (${msg})`);
}

export function readTextFile(
  file: string,
  cwd: string,
  what = 'file',
): { path: string; label: string; text: string } {
  const abs = path.resolve(cwd, file);
  let text: string;
  try {
    text = fs.readFileSync(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(
      code === 'ENOENT' ? `${what} ${file} does not exist` : `cannot read ${file}: ${code ?? String(e)}`,
    );
  }
  return { path: abs, label: file, text };
}

/** Reads a run file; relative local paths in it (data, model, ...) are made absolute against cwd. */
export function readRunFile(file: string, cwd: string): RunFile {
  const { path: abs, label, text } = readTextFile(file, cwd);
  if (isYamlName(file, text))
    return { kind: 'yaml', path: abs, label, text: rebaseYamlText(text, cwd, pathExists) };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw jsonError(label, text, e);
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    value = rebaseObject(value as Record<string, unknown>, cwd, pathExists);
  }
  return { kind: 'json', path: abs, label, value };
}
