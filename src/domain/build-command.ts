// Pure: turns a validated run request into the exact mlx-lm-lora argv, the per-run config.yaml and the child env.
import path from 'node:path';

import { stringify } from 'yaml';

import { METHOD_INFO } from './methods.js';
import type { RunRequest } from './run-request.js';
import { appliesTo, RUN_OPTIONS } from './run-options.js';

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
  // TQDM_DISABLE is ignored upstream (disable= is passed explicitly); this thins the progress bar instead.
  TQDM_MININTERVAL: '2',
});

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
  const argv = [ctx.python, '-m', 'mlx_lm_lora.train', '--train', '--train-mode', mode];
  for (const o of RUN_OPTIONS) {
    if (o.flag === undefined || !appliesTo(o, mode)) continue;
    let value = effectiveValue(request, o.key);
    if (o.key === 'data') value = ctx.dataDir ?? request.data;
    if (ctx.resume && (o.key === 'iters' || o.key === 'epochs' || o.key === 'resume_adapter_file')) continue;
    if (value === undefined || value === false) continue;
    argv.push(o.flag);
    if (value !== true) argv.push(formatValue(value));
  }
  if (ctx.resume) {
    argv.push('--iters', String(ctx.resume.remainingIterations), '--resume-adapter-file', ctx.resume.adapterFile);
  }
  argv.push('--adapter-path', adapterPath, '-c', configPath);
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
  return header + stringify(config);
}
