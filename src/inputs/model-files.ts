// Finds a model's config.json and weight files, in a local folder or a visible Hugging Face cache, and reads its shape.
import fs from 'node:fs/promises';
import path from 'node:path';

import { type ModelShape, parseModelConfig } from '../domain/model-shape.js';
import { localModelDir } from './model-facts.js';

const WEIGHT_FILE = /^model.*\.safetensors$/;

async function isDir(p: string): Promise<boolean> {
  return (await fs.stat(p).catch(() => null))?.isDirectory() ?? false;
}

/** Sum of model*.safetensors sizes (symlinks into the cache's blobs followed); null when there are none. */
async function weightBytes(dir: string): Promise<number | null> {
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => WEIGHT_FILE.test(n));
  if (names.length === 0) return null;
  const sizes = await Promise.all(
    names.map(async (n) => (await fs.stat(path.join(dir, n)).catch(() => null))?.size ?? 0),
  );
  const total = sizes.reduce((a, b) => a + b, 0);
  return total > 0 ? total : null;
}

/** The folder a model value names: a local directory, or the HF cache snapshot of a repo id (model-facts.ts). */
export async function modelFolder(
  value: string,
  hubCache: string,
): Promise<{ dir: string } | { error: string }> {
  const dir = localModelDir(value, hubCache);
  if (dir) return { dir };
  if (await isDir(path.resolve(value))) return { dir: path.resolve(value) };
  if (!/^[\w.-]+\/[\w.-]+$/.test(value)) return { error: `model ${value} is not a local folder` };
  return {
    error: `${value} is not downloaded: no Hugging Face cache entry under ${hubCache} (the worker would download it)`,
  };
}

/** Reads a model's shape; the error says why it could not (and then no estimate is made). */
export async function readModelShape(
  value: string,
  hubCache: string,
): Promise<ModelShape | { error: string }> {
  const folder = await modelFolder(value, hubCache);
  if ('error' in folder) return folder;
  let text: string;
  try {
    text = await fs.readFile(path.join(folder.dir, 'config.json'), 'utf8');
  } catch (e) {
    return {
      error: `cannot read config.json of ${value}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: `config.json of ${value} is not valid JSON` };
  }
  const shape = parseModelConfig(json, await weightBytes(folder.dir));
  return 'error' in shape ? { error: `${shape.error} (${value})` } : shape;
}
