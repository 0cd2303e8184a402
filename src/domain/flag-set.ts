// The installed trainer's flag set (what its argparse accepts), the verified 3.1.2 one, and what a request needs of it.
import { z } from 'zod';

import { METHOD_INFO } from './methods.js';
import { appliesTo, type OptionSpec, RUN_OPTIONS } from './run-options.js';
import type { RunRequest } from './run-request.js';
import { VERIFIED_OPTIONS } from './verified-flag-set.js';

/** mlx-lm-lora versions whose flags and output this service was checked against. */
export const VERIFIED_VERSIONS = ['3.1.2', '0.8.1'] as const;
export const VERIFIED_VERSION = '3.1.2';

export const trainerOptionSchema = z.looseObject({
  flag: z.string(),
  dest: z.string(),
  action: z.string(),
  type: z.string().nullable(),
  choices: z.array(z.string()).nullable(),
  /** The parser's default; null for None, and unknown (null) for a set read from --help. */
  default: z.unknown(),
});
export type TrainerOption = z.infer<typeof trainerOptionSchema>;

export const flagSetSchema = z.looseObject({
  version: z.string().nullable(),
  /** build_parser(): read from the parser itself; help: parsed from --help; verified: the built-in 3.1.2 set. */
  source: z.enum(['build_parser', 'help', 'verified']),
  options: z.array(trainerOptionSchema),
});
export type FlagSet = z.infer<typeof flagSetSchema>;

export const VERIFIED_FLAG_SET: FlagSet = Object.freeze({
  version: VERIFIED_VERSION,
  source: 'verified',
  options: [...VERIFIED_OPTIONS],
});

export function isVerifiedVersion(version: string | null | undefined): boolean {
  return version != null && (VERIFIED_VERSIONS as readonly string[]).includes(version);
}

/** "mlx-lm-lora 0.7.0 (build_parser())": how answers and the run page name a flag set. */
export function describeFlagSet(set: Pick<FlagSet, 'version' | 'source'>): string {
  const how =
    set.source === 'verified'
      ? 'verified set built in'
      : set.source === 'help'
        ? 'read from --help'
        : 'read from build_parser()';
  return `mlx-lm-lora ${set.version ?? 'of unknown version'} (${how})`;
}

export function installedOption(set: FlagSet, flag: string): TrainerOption | undefined {
  return set.options.find((o) => o.flag === flag);
}

const verifiedByFlag = new Map(VERIFIED_OPTIONS.map((o) => [o.flag, o]));

/**
 * The parser default of an option in this set. A set read from --help does not say, so 3.1.2's is assumed.
 * undefined when the set lacks the flag.
 */
export function parserDefault(set: FlagSet, flag: string): unknown {
  const o = installedOption(set, flag);
  if (o === undefined) return undefined;
  return set.source === 'help' ? (verifiedByFlag.get(flag)?.default ?? null) : (o.default ?? null);
}

/**
 * Options upstream must get on the command line even when the request leaves them out: their installed parser
 * default is not None, so a YAML value would be ignored (the service passes its own default, e.g. temperature 0.8).
 */
export function alwaysOnCli(set: FlagSet, o: OptionSpec): boolean {
  if (o.flag === undefined || o.default === undefined) return false;
  const d = parserDefault(set, o.flag);
  return d !== undefined && d !== null;
}

export interface Unsupported {
  key: string;
  flag: string;
  /** "has no --importance-sampling-level", "does not accept --train-mode=ftpo (it takes sft, dpo, …)" */
  what: string;
}

/** What a request needs of the trainer that this flag set lacks: a flag it does not have, or a choice it does not take. */
export function unsupportedBy(
  set: FlagSet,
  request: RunRequest,
  values: (o: OptionSpec) => unknown,
): Unsupported[] {
  const mode = METHOD_INFO[request.method].trainMode;
  const out: Unsupported[] = [];
  const modes = installedOption(set, '--train-mode')?.choices;
  if (modes && !modes.includes(mode))
    out.push({
      key: 'method',
      flag: '--train-mode',
      what: `does not accept --train-mode=${mode} (it takes ${modes.join(', ')})`,
    });
  for (const o of RUN_OPTIONS) {
    if (o.flag === undefined || !appliesTo(o, mode)) continue;
    const value = values(o);
    if (value === undefined || value === false) continue;
    const installed = installedOption(set, o.flag);
    if (installed === undefined) {
      // A value the service adds on its own (its default) is left out rather than refused.
      if (request[o.key] !== undefined || METHOD_INFO[request.method].fixed?.[o.key] !== undefined)
        out.push({ key: o.key, flag: o.flag, what: `has no ${o.flag}` });
      continue;
    }
    if (installed.choices && typeof value === 'string' && !installed.choices.includes(value)) {
      out.push({
        key: o.key,
        flag: o.flag,
        what: `does not accept ${o.flag}=${value} (it takes ${installed.choices.join(', ')})`,
      });
    }
  }
  return out;
}

/** "importance_sampling_level: mlx-lm-lora 0.7.0 on vm-1 has no --importance-sampling-level" */
export function describeUnsupported(u: Unsupported, set: Pick<FlagSet, 'version'>, worker: string): string {
  return `${u.key}: mlx-lm-lora ${set.version ?? '(unknown version)'} on ${worker} ${u.what}`;
}

/** Same flags, choices and defaults (a --help set's defaults are unknown, so not compared): one's command suits the other. */
export function sameFlags(a: FlagSet, b: FlagSet): boolean {
  const withDefaults = a.source !== 'help' && b.source !== 'help';
  const key = (s: FlagSet) =>
    JSON.stringify(
      s.options.map((o) => [o.flag, o.choices, withDefaults ? (o.default ?? null) : null]).sort(),
    );
  return key(a) === key(b);
}
