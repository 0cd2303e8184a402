// What every figure gets: mode, Redis, a private temp root, the Python to run trainers with, and output hooks.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import type { Figure } from './figure.js';

export interface BenchContext {
  quick: boolean;
  redisUrl: string;
  /** Temp root of this benchmark run; removed at the end. */
  tmp: string;
  /** Resolved interpreter (not a pyenv shim) used by the project and the raw baseline alike. */
  python: string;
  /** Progress on stderr (stdout carries only the JSON figures). */
  log(msg: string): void;
  emit(fig: Figure): void;
}

/** A fresh directory under the temp root. */
export function subdir(ctx: BenchContext, name: string): string {
  const dir = path.join(ctx.tmp, `${name}-${randomBytes(3).toString('hex')}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** A queue prefix of its own for each process pair, so no figure sees another's jobs. */
export function prefix(name: string): string {
  return `mlxq-bench-${name}-${randomBytes(4).toString('hex')}`;
}
