// The service's methods, as derived from the table (method-table.ts): the lists, one record per method, the options
// each takes, the YAML train_mode mapping, and the facts by mode that schemas, checks and estimates ask for.
import {
  type MethodFamily,
  MODE_TABLE,
  type ModeEntry,
  TRAIN_MODES,
  type TrainMode,
  VARIANT_NAMES,
  VARIANT_TABLE,
  type VariantEntry,
} from './method-table.js';

export {
  DEFAULT_TRAIN_MODE,
  METHOD_FAMILIES,
  type MethodFamily,
  MODE_TABLE,
  type ModeEntry,
  type OutputDialect,
  TRAIN_MODES,
  type TrainMode,
} from './method-table.js';

export const METHODS = [...TRAIN_MODES, ...VARIANT_NAMES] as const;
export type Method = (typeof METHODS)[number];

export interface MethodInfo {
  method: Method;
  trainMode: TrainMode;
  family: MethodFamily;
  title: string;
  description: string;
  /** Options this variant fixes; a request that sets them otherwise is rejected. */
  fixed?: Readonly<Record<string, string>>;
  /** Options this method cannot run without (beyond model, data and iters/epochs): its judge, a variant's own. */
  requires: readonly string[];
  /** A variant's rule between its options. */
  check?: VariantEntry['check'];
  /** The facts of its train mode. */
  mode: ModeEntry;
}

function modeInfo(method: TrainMode): MethodInfo {
  const mode: ModeEntry = MODE_TABLE[method];
  const { title, description, family } = mode;
  const requires = mode.judge ? ['judge'] : [];
  return { method, trainMode: method, family, title, description, requires, mode };
}

function variantInfo(method: keyof typeof VARIANT_TABLE): MethodInfo {
  const v: VariantEntry = VARIANT_TABLE[method];
  const base = modeInfo(v.of);
  return {
    ...base,
    method,
    title: v.title,
    description: v.description,
    ...(v.fixed && { fixed: v.fixed }),
    requires: [...base.requires, ...(v.requires ?? [])],
    ...(v.check && { check: v.check }),
  };
}

export const METHOD_INFO: Readonly<Record<Method, MethodInfo>> = Object.fromEntries([
  ...TRAIN_MODES.map((m) => [m, modeInfo(m)]),
  ...VARIANT_NAMES.map((m) => [m, variantInfo(m)]),
]) as Record<Method, MethodInfo>;

export function isMethod(value: unknown): value is Method {
  return typeof value === 'string' && (METHODS as readonly string[]).includes(value);
}

/** The train modes a fact holds for (in TRAIN_MODES order). */
export function modesWhere(fact: (entry: ModeEntry) => boolean): TrainMode[] {
  return TRAIN_MODES.filter((m) => fact(MODE_TABLE[m]));
}

const JUDGE_OPTIONS = ['judge', 'judge_config'] as const;

/** The keys of the options only some methods take that this mode takes: its own, plus what its facts imply. */
function methodOptionKeys(entry: ModeEntry): ReadonlySet<string> {
  return new Set<string>([
    ...entry.options,
    ...(entry.judge ? JUDGE_OPTIONS : []),
    ...(entry.reference ? ['reference_model_path'] : []),
    ...(entry.generates ? ['max_completion_length'] : []),
  ]);
}

const OPTION_KEYS_BY_MODE: ReadonlyMap<TrainMode, ReadonlySet<string>> = new Map(
  TRAIN_MODES.map((m) => [m, methodOptionKeys(MODE_TABLE[m])]),
);

/**
 * The reward a sweep's table shows for a run of this mode (meanReward, a CSV column, a web column): the mode's reward,
 * for the modes that score completions with reward functions (GRPO and its variants); null for the rest.
 */
export function sweepRewardOf(mode: TrainMode): ModeEntry['reward'] {
  return modeTakesOption(mode, 'reward_functions') ? MODE_TABLE[mode].reward : null;
}

/** Whether a mode takes an option only some methods take (common options apply to every mode). */
export function modeTakesOption(mode: TrainMode, key: string): boolean {
  return OPTION_KEYS_BY_MODE.get(mode)?.has(key) ?? false;
}

/** Maps an upstream YAML train_mode plus variant options to the service's method: a variant whose fixed values or
 * required options the config sets, else the mode itself. */
export function methodFromTrainMode(
  trainMode: TrainMode,
  options: Readonly<Record<string, unknown>>,
): Method {
  const variant = VARIANT_NAMES.find((name) => {
    const v: VariantEntry = VARIANT_TABLE[name];
    const holds = [
      ...Object.entries(v.fixed ?? {}).map(([key, value]) => options[key] === value),
      ...(v.requires ?? []).map((key) => options[key] !== undefined && options[key] !== null),
    ];
    return v.of === trainMode && holds.length > 0 && holds.every(Boolean);
  });
  return variant ?? trainMode;
}

/** The dataset problem for a split with fewer rows than batch_size: what upstream does then. */
export function tinyDataProblem(mode: TrainMode, file: string, rows: number, batchSize: number): string {
  const tiny = MODE_TABLE[mode].tinyData;
  if (tiny.behaviour === 'raises') return tiny.problem(file, rows, batchSize);
  return `${file} has ${rows} rows, fewer than batch_size=${batchSize}: upstream's batch iterator yields no batches and ${mode} training hangs forever`;
}
