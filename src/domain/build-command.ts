// Pure: turns a validated run request into the exact mlx-lm-lora argv, the per-run config.yaml and the child env.

import {
  alwaysOnCli,
  type FlagSet,
  installedOption,
  type Unsupported,
  unsupportedBy,
  VERIFIED_FLAG_SET,
} from './flag-set.js';
import { METHOD_INFO } from './methods.js';
import { adapterDirOf, configFileOf } from './run-folder.js';
import { appliesTo, type OptionSpec, RUN_OPTIONS } from './run-options.js';
import type { RunRequest } from './run-request.js';
import { stringifyYaml11 } from './yaml11.js';

export interface BuildContext {
  /** The Python interpreter (MLX_PYTHON). */
  python: string;
  /** The run's own folder; adapters, config.yaml and logs live under it. */
  runDir: string;
  /** The dataset directory when `data` names an upload; defaults to request.data. */
  dataDir?: string;
  /** Continue from a checkpoint: the adapter file and the iterations still to train. */
  resume?: { adapterFile: string; remainingIterations: number };
  /** The installed trainer's flags (the worker's preflight); the verified 3.1.2 set when left out. */
  flagSet?: FlagSet;
}

export interface BuiltCommand {
  argv: string[];
  configYaml: string;
  configPath: string;
  adapterPath: string;
  /** Added to the inherited environment. */
  env: Record<string, string>;
  /** The flag set the command was built for: its version and where it was read. */
  flagSet: Pick<FlagSet, 'version' | 'source'>;
  /** What the request needs that this flag set lacks (those flags are left out of argv); empty when it runs as asked. */
  unsupported: Unsupported[];
}

/** Keys only YAML can set; they go into the run's config.yaml. */
const YAML_ONLY = RUN_OPTIONS.filter((o) => o.flag === undefined).map((o) => o.key);

export const TRAINER_ENV: Readonly<Record<string, string>> = Object.freeze({
  // Piped stdout is block-buffered and tqdm.write never flushes: without this, lines arrive in bursts.
  PYTHONUNBUFFERED: '1',
  // The trainer prints μ σ • and box-drawing characters.
  PYTHONIOENCODING: 'utf-8',
  // Upstream opens config.yaml without an encoding, i.e. in the locale's; UTF-8 mode reads its non-ASCII strings right.
  PYTHONUTF8: '1',
  // TQDM_DISABLE is ignored upstream (disable= is passed explicitly); this thins the progress bar instead.
  TQDM_MININTERVAL: '2',
});

/**
 * One argv element `--flag=value`. argparse reads a separate value that starts with "-" as a number only when it
 * looks like one to it (`-5`, `-.5`), so `--delta -1e-7` or `--reward-weights -0.5,1` would fail with "expected one
 * argument"; joined with "=", any value is taken as it is.
 */
export function flagArg(flag: string, value: string): string {
  return `${flag}=${value}`;
}

/** The value of a flag in an argv, written `--flag=value` or `--flag value`. */
export function argValue(argv: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
    if (a === flag) return argv[i + 1];
  }
  return undefined;
}

export function formatValue(value: unknown): string {
  if (Array.isArray(value)) return value.map(formatValue).join(',');
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'nan';
  return String(value);
}

/**
 * The value a run uses for an option: the request's, the method's fixed one, or the service's default for an
 * option the installed parser gives a non-None default (upstream would ignore a YAML value for it).
 */
export function effectiveValue(
  request: RunRequest,
  key: string,
  flagSet: FlagSet = VERIFIED_FLAG_SET,
): unknown {
  const fixed = METHOD_INFO[request.method].fixed?.[key];
  if (request[key] !== undefined) return request[key];
  if (fixed !== undefined) return fixed;
  const spec = RUN_OPTIONS.find((o) => o.key === key);
  return spec && alwaysOnCli(flagSet, spec) ? spec.default : undefined;
}

/**
 * The argv for the installed flag set: it never holds a flag that set lacks (what the request needed of those is
 * returned as `unsupported`, for the caller to refuse), and options the request leaves out stay out unless
 * alwaysOnCli.
 */
export function buildCommand(request: RunRequest, ctx: BuildContext): BuiltCommand {
  const flagSet = ctx.flagSet ?? VERIFIED_FLAG_SET;
  const mode = METHOD_INFO[request.method].trainMode;
  const adapterPath = adapterDirOf(ctx.runDir);
  const configPath = configFileOf(ctx.runDir);
  const argv = [ctx.python, '-m', 'mlx_lm_lora.train', '--train', `--train-mode=${mode}`];
  const valueOf = (o: OptionSpec): unknown => {
    if (ctx.resume && (o.key === 'iters' || o.key === 'epochs' || o.key === 'resume_adapter_file'))
      return undefined;
    return o.key === 'data' ? (ctx.dataDir ?? request.data) : effectiveValue(request, o.key, flagSet);
  };
  for (const o of RUN_OPTIONS) {
    if (o.flag === undefined || !appliesTo(o, mode)) continue;
    const value = valueOf(o);
    if (value === undefined || value === false || installedOption(flagSet, o.flag) === undefined) continue;
    argv.push(value === true ? o.flag : flagArg(o.flag, formatValue(value)));
  }
  if (ctx.resume) {
    argv.push(
      flagArg('--iters', String(ctx.resume.remainingIterations)),
      flagArg('--resume-adapter-file', ctx.resume.adapterFile),
    );
  }
  argv.push(flagArg('--adapter-path', adapterPath), flagArg('--config', configPath));
  return {
    argv,
    configYaml: buildConfigYaml(request),
    configPath,
    adapterPath,
    env: { ...TRAINER_ENV },
    flagSet: { version: flagSet.version, source: flagSet.source },
    unsupported: unsupportedBy(flagSet, request, valueOf),
  };
}

function buildConfigYaml(request: RunRequest): string {
  const config: Record<string, unknown> = {
    // Upstream fuses a full model copy into the adapter folder after every run unless told otherwise.
    fuse: request.fuse,
  };
  for (const key of YAML_ONLY) if (request[key] !== undefined) config[key] = request[key];
  const header =
    '# Written by mlx-train-queue for this run. Options on the command line win over this file;\n' +
    '# it carries what mlx-lm-lora reads only from YAML.\n';
  return header + stringifyYaml11(config);
}
