// What the follow-up jobs need to know about a run's base model: its local folder, type, quantization and size.
import fs from 'node:fs';
import path from 'node:path';

import type { Quantization } from '../domain/follow-up-rules.js';

export interface ModelFacts {
  /** The local folder: the path itself, or the newest snapshot in the Hugging Face cache; null when neither. */
  dir: string | null;
  modelType: string | null;
  quantization: Quantization | null;
  /** Bytes of model*.safetensors (all are loaded, so all count). */
  weightBytes: number;
}

const HF_REPO_ID = /^[A-Za-z0-9][\w.-]{0,95}\/[A-Za-z0-9][\w.-]{0,95}$/;

/** `models--{org}--{name}/snapshots/{sha}` of a repo id in the cache, the most recently modified one. */
function cachedSnapshot(repoId: string, hubCache: string): string | null {
  const snapshots = path.join(hubCache, `models--${repoId.replace('/', '--')}`, 'snapshots');
  let names: string[];
  try {
    names = fs.readdirSync(snapshots);
  } catch {
    return null;
  }
  const dirs = names
    .map((n) => path.join(snapshots, n))
    .filter((d) => fs.existsSync(path.join(d, 'config.json')));
  dirs.sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return dirs[0] ?? null;
}

/** A local model folder for `model` (a path, or a repo id already in the cache). */
export function localModelDir(model: string, hubCache: string): string | null {
  if (fs.existsSync(path.join(model, 'config.json'))) return path.resolve(model);
  return HF_REPO_ID.test(model) ? cachedSnapshot(model, hubCache) : null;
}

export function readModelFacts(model: string, hubCache: string): ModelFacts {
  const dir = localModelDir(model, hubCache);
  if (!dir) return { dir: null, modelType: null, quantization: null, weightBytes: 0 };
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    // An unreadable config: the type stays unknown and upstream reports the problem when the job runs.
  }
  const q = config.quantization as { bits?: unknown; group_size?: unknown } | undefined;
  const quantization =
    q && typeof q === 'object' ? { bits: Number(q.bits ?? 4), group_size: Number(q.group_size ?? 64) } : null;
  let weightBytes = 0;
  for (const name of fs.readdirSync(dir)) {
    if (/^model.*\.safetensors$/.test(name)) weightBytes += fs.statSync(path.join(dir, name)).size;
  }
  return {
    dir,
    modelType: typeof config.model_type === 'string' ? config.model_type : null,
    quantization,
    weightBytes,
  };
}
