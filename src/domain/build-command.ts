// Pure: turns a validated run request into the exact mlx-lm-lora argv, the per-run config.yaml and the child env.
import path from 'node:path';

import { METHOD_INFO } from './methods.js';
import type { RunRequest } from './run-request.js';
import { appliesTo, RUN_OPTIONS } from './run-options.js';
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
}

export interface BuiltCommand {
  argv: string[];
  configYaml: string;
  configPath: string;
  adapterPath: string;
  /** Added to the inherited environment. */
  env: Record<string, string>;
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

/** The value a run uses for an option: the request's, the method's fixed one, or (for CLI-only options) the default. */
export function effectiveValue(request: RunRequest, key: string): unknown {
  const fixed = METHOD_INFO[request.method].fixed?.[key];
  if (request[key] !== undefined) return request[key];
  if (fixed !== undefined) return fixed;
  const spec = RUN_OPTIONS.find((o) => o.key === key);
  return spec?.cliAlways ? spec.default : undefined;
}

export function buildCommand(request: RunRequest, ctx: BuildContext): BuiltCommand {
  const mode = METHOD_INFO[request.method].trainMode;
  const adapterPath = path.join(ctx.runDir, 'adapters');
  const configPath = path.join(ctx.runDir, 'config.yaml');
  const argv = [ctx.python, '-m', 'mlx_lm_lora.train', '--train', `--train-mode=${mode}`];
  for (const o of RUN_OPTIONS) {
    if (o.flag === undefined || !appliesTo(o, mode)) continue;
    let value = effectiveValue(request, o.key);
    if (o.key === 'data') value = ctx.dataDir ?? request.data;
    if (ctx.resume && (o.key === 'iters' || o.key === 'epochs' || o.key === 'resume_adapter_file')) continue;
    if (value === undefined || value === false) continue;
    argv.push(value === true ? o.flag : flagArg(o.flag, formatValue(value)));
  }
  if (ctx.resume) {
    argv.push(flagArg('--iters', String(ctx.resume.remainingIterations)), flagArg('--resume-adapter-file', ctx.resume.adapterFile));
  }
  argv.push(flagArg('--adapter-path', adapterPath), flagArg('--config', configPath));
  return { argv, configYaml: buildConfigYaml(request), configPath, adapterPath, env: { ...TRAINER_ENV } };
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
