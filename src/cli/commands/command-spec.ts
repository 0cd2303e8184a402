// The shape every subcommand has: its name, usage, node:util parseArgs options, and what it runs; reading options.
import type { ParseArgsConfig } from 'node:util';

import type { ApiClient } from '../api-client.js';
import { CliError, type CliIo, type ExitCode } from '../cli-io.js';

export type OptionValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface CommandContext {
  api: ApiClient;
  io: CliIo;
}

export interface CommandSpec {
  name: string;
  /** Arguments after the name, e.g. "<file.yaml|json> [--watch]". */
  usage: string;
  summary: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Number of positional arguments the command needs, and at most. */
  positionals: { min: number; max: number };
  run(ctx: CommandContext, positionals: string[], values: OptionValues): Promise<ExitCode>;
}

export const str = (v: OptionValues[string]): string | undefined => (typeof v === 'string' ? v : undefined);

export function intOption(values: OptionValues, name: string, fallback: number, min = 1): number {
  const raw = str(values[name]);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new CliError(`--${name} must be an integer of at least ${min}`);
  return n;
}

/** `--interval ms` of the commands that follow a run: how often it is polled. */
export const watchInterval = (values: OptionValues): number => intOption(values, 'interval', 1000, 50);

/** An integer option left out when not given, so the service applies its own default. */
export function optionalInt(values: OptionValues, name: string, min = 1): number | undefined {
  return str(values[name]) === undefined ? undefined : intOption(values, name, min, min);
}
