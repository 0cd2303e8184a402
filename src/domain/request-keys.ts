// The keys of a run request that do not belong to its method: unknown (with the likely key meant), another
// method's option, or an option the service refuses; each named with the reason.
import type { FieldIssue } from './errors.js';
import { type Method, TRAIN_MODES, type TrainMode } from './methods.js';
import {
  appliesTo,
  COMMON_OPTION_KEYS,
  OPTION_BY_KEY,
  type OptionSpec,
  REJECTED_OPTIONS,
} from './run-options.js';

/** The request keys of the service itself (not mlx-lm-lora options). */
export const SERVICE_FIELDS = [
  'method',
  'name',
  'tags',
  'priority',
  'fuse',
  'on_oom',
  'after',
  'placement',
] as const;

function modesOf(o: OptionSpec): string {
  return COMMON_OPTION_KEYS.has(o.key)
    ? 'all methods'
    : TRAIN_MODES.filter((m) => appliesTo(o, m)).join(', ');
}

/** Names keys that do not belong to the method: unknown, for another method, or broken upstream. */
export function keyIssues(method: Method, mode: TrainMode, input: Record<string, unknown>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const key of Object.keys(input)) {
    if ((SERVICE_FIELDS as readonly string[]).includes(key)) continue;
    const spec = OPTION_BY_KEY.get(key);
    if (spec && appliesTo(spec, mode)) continue;
    const rejected = REJECTED_OPTIONS[key];
    if (rejected) issues.push({ path: key, message: `not accepted: ${rejected}` });
    else if (key === 'train_mode')
      issues.push({ path: key, message: 'set method instead (train_mode is derived from it)' });
    else if (spec)
      issues.push({
        path: key,
        message: `does not apply to method ${method} (it applies to ${modesOf(spec)})`,
      });
    else issues.push({ path: key, message: `unknown option${suggest(key)}` });
  }
  return issues;
}

function suggest(key: string): string {
  const norm = key.toLowerCase().replace(/-/g, '_');
  if (norm !== key && (OPTION_BY_KEY.has(norm) || (SERVICE_FIELDS as readonly string[]).includes(norm))) {
    return `; did you mean ${norm}? (keys are snake_case, as in mlx-lm-lora's YAML)`;
  }
  let best: string | undefined;
  let bestDist = 3;
  for (const k of [...OPTION_BY_KEY.keys(), ...SERVICE_FIELDS]) {
    const d = editDistance(norm, k);
    if (d < bestDist) [best, bestDist] = [k, d];
  }
  return best ? `; did you mean ${best}?` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
