// Confines every path a request names (datasets, models, reward files, adapters) to the allowed roots, after symlinks.
import { realpathSync } from 'node:fs';
import path from 'node:path';

import { RequestValidationError } from '../domain/errors.js';

export type AssertAllowedPath = (field: string, resolved: string) => Promise<void>;

/**
 * The real path of `p`: symlinks resolved. A path that does not exist yet is resolved through its nearest
 * existing ancestor, so `root/link-to-etc/missing` still counts as lying under /etc.
 */
export async function realPathOf(p: string): Promise<string> {
  const absolute = path.resolve(p);
  const tail: string[] = [];
  let current = absolute;
  for (;;) {
    try {
      // Synchronous: µs on local disk, against ~30 µs of CPU and a thread-pool hop (bench: submit breakdown).
      const real = realpathSync.native(current);
      return tail.length === 0 ? real : path.join(real, ...tail.reverse());
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOENT/ENOTDIR: this part does not exist (yet); anything else (EACCES, ELOOP) is refused as unknowable.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
      const parent = path.dirname(current);
      if (parent === current) return absolute;
      tail.push(path.basename(current));
      current = parent;
    }
  }
}

/** True when `p` is `root` or lies inside it (both already real paths). */
export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

const ROOTS_TTL_MS = 1000;

/**
 * Builds the `assertAllowedPath` hook of the input checks. Roots are resolved again at most once a second, so a
 * root created after start, or one that is itself a symlink (macOS: /tmp -> /private/tmp), is judged by its target.
 */
export function createPathPolicy(roots: readonly string[]): AssertAllowedPath {
  // Resolving every root on every call cost ~100 µs per path, and a submit checks five (bench: submit breakdown).
  let cachedRoots: { at: number; roots: Promise<string[]> } | undefined;
  const realRoots = () => {
    const now = Date.now();
    if (!cachedRoots || now - cachedRoots.at >= ROOTS_TTL_MS) {
      const real = roots.map((r) => realPathOf(r).catch(() => path.resolve(r)));
      cachedRoots = { at: now, roots: Promise.all(real) };
    }
    return cachedRoots.roots;
  };
  return async function assertAllowedPath(field: string, resolved: string): Promise<void> {
    let real: string;
    try {
      real = await realPathOf(resolved);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw new RequestValidationError([
        { path: field, message: `${resolved} cannot be resolved (${code})` },
      ]);
    }
    const allowed = await realRoots();
    if (allowed.some((root) => isInside(root, real))) return;
    const shown = real === path.resolve(resolved) ? resolved : `${resolved} (resolves to ${real})`;
    throw new RequestValidationError([
      {
        path: field,
        message: `${shown} lies outside the allowed roots (${allowed.join(', ')}); set ALLOWED_ROOTS to widen them`,
      },
    ]);
  };
}

const SPLIT_FILES = ['train.jsonl', 'valid.jsonl', 'test.jsonl'] as const;

/**
 * A dataset directory and the split files in it: a train.jsonl inside an allowed directory that is a symlink
 * to a file elsewhere is refused too, since the validator and the trainer would read it.
 */
export async function assertDatasetAllowed(
  assert: AssertAllowedPath,
  dir: string,
  field = 'data',
): Promise<void> {
  await assert(field, dir);
  for (const file of SPLIT_FILES) await assert(field, path.join(dir, file));
}
