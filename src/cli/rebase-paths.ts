// Relative local paths in a run file are made absolute against the caller's directory, as mlx-lm-lora would read them
// from where it was started; the service itself may run elsewhere. YAML is edited in place so its lines stay put.
import path from 'node:path';

import { isMap, isScalar, parseDocument, Scalar } from 'yaml';

/** Request keys that may name a local file or directory. */
export const PATH_KEYS = [
  'data',
  'model',
  'reference_model_path',
  'judge',
  'resume_adapter_file',
  'reward_functions_file',
] as const;

export type Exists = (absolutePath: string) => boolean;

/** The absolute path when value is a relative path that exists under baseDir; otherwise undefined. */
export function rebasedPath(value: unknown, baseDir: string, exists: Exists): string | undefined {
  if (typeof value !== 'string' || value === '' || path.isAbsolute(value) || value.startsWith('dataset:'))
    return undefined;
  const abs = path.resolve(baseDir, value);
  return exists(abs) ? abs : undefined;
}

/** Rewrites the path values of a YAML run file; everything else, comments and line numbers included, is kept. */
export function rebaseYamlText(text: string, baseDir: string, exists: Exists): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !isMap(doc.contents)) return text;
  const edits: { start: number; end: number; value: string }[] = [];
  for (const pair of doc.contents.items) {
    if (!isScalar(pair.key) || !(PATH_KEYS as readonly unknown[]).includes(pair.key.value)) continue;
    const node = pair.value;
    if (!isScalar(node) || !node.range) continue;
    if (![Scalar.PLAIN, Scalar.QUOTE_DOUBLE, Scalar.QUOTE_SINGLE].includes(node.type as string)) continue;
    const abs = rebasedPath(node.value, baseDir, exists);
    if (abs) edits.push({ start: node.range[0], end: node.range[1], value: JSON.stringify(abs) });
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start))
    out = out.slice(0, e.start) + e.value + out.slice(e.end);
  return out;
}

/** The same for a parsed request object (JSON files, sweep bases). Returns a copy. */
export function rebaseObject(
  obj: Record<string, unknown>,
  baseDir: string,
  exists: Exists,
): Record<string, unknown> {
  const out = { ...obj };
  for (const key of PATH_KEYS) {
    const abs = rebasedPath(out[key], baseDir, exists);
    if (abs) out[key] = abs;
  }
  return out;
}
