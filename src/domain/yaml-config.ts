// Pure: an mlx-lm-lora YAML config (as `mlx_lm_lora.train -c` reads it) -> a run request body plus warnings.
import { type FieldIssue, RequestValidationError } from './errors.js';
import {
  DEFAULT_TRAIN_MODE,
  isMethod,
  METHOD_INFO,
  methodFromTrainMode,
  TRAIN_MODES,
  type TrainMode,
} from './methods.js';

export interface YamlRunRequest {
  /** A body for parseRunRequest: train_mode replaced by method, keys the service sets itself removed. */
  body: Record<string, unknown>;
  /** What the service does differently from `mlx_lm_lora.train -c <file>`, each naming its key. */
  warnings: FieldIssue[];
}

/**
 * Keys an upstream config may carry that the service sets itself or that do nothing upstream. A file is queued
 * unchanged, so these are accepted and ignored with a warning rather than refused.
 */
const IGNORED_KEYS: Readonly<Record<string, string>> = {
  adapter_path: "ignored: the service writes the adapters into the run's own folder (adapterPath in the run)",
  config: 'ignored: this file is the config',
  list_reward_functions: 'ignored: it does nothing upstream; GET /v1/methods lists the reward functions',
  reward_scaling: 'ignored: parsed but unused upstream',
  alpha: 'ignored, as upstream ignores it: YAML cannot override its default there',
};

/**
 * Options upstream takes from its command-line default even when the YAML sets them (their parser default is not
 * None). The service passes them on the command line, so the file's value applies; a run of the same file with
 * `mlx_lm_lora.train -c` used these values instead.
 */
const UPSTREAM_IGNORES_FROM_YAML: Readonly<Record<string, string | number>> = {
  gradient_accumulation_steps: 1,
  sft_loss_type: 'nll',
  dpo_cpo_loss_type: 'sigmoid',
  delta: 50,
  group_size: 4,
  max_completion_length: 512,
  epsilon: 1e-4,
  temperature: 1.0,
  grpo_loss_type: 'grpo',
  importance_sampling_level: 'token',
};

/** lora_parameters sub-keys mlx-lm-lora never reads (mlx_lm's example configs carry `keys`). */
const IGNORED_LORA_KEYS = ['keys'];

/** Where a request key came from in the YAML, for pointing an issue at a line. */
export function yamlKeyFor(requestPath: string): string {
  return requestPath === 'method' ? 'train_mode' : requestPath;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The mode a misspelt train_mode most likely means: dashes for underscores, or the first word of it (rlhf). */
function likelyMode(value: unknown): TrainMode | undefined {
  if (typeof value !== 'string') return undefined;
  const name = value.replaceAll('-', '_');
  return TRAIN_MODES.find((m) => m === name || m.startsWith(`${name}_`));
}

function trainModeIssue(value: unknown): string {
  const likely = likelyMode(value);
  const hint = likely ? `; did you mean ${likely}?` : '';
  const variant = isMethod(value)
    ? `; ${value} is a method: set train_mode: ${METHOD_INFO[value].trainMode} with its option, or method: ${value}`
    : '';
  return `"${String(value)}" is not a train mode (one of ${TRAIN_MODES.join(', ')})${variant || hint}`;
}

/** train_mode (plus the GRPO variant options) -> method; a config with neither trains SFT, as upstream. */
function resolveMethod(config: Record<string, unknown>, issues: FieldIssue[]): unknown {
  const method = config.method ?? undefined;
  const trainMode = config.train_mode ?? undefined;
  if (trainMode === undefined) return method ?? DEFAULT_TRAIN_MODE;
  if (typeof trainMode !== 'string' || !(TRAIN_MODES as readonly string[]).includes(trainMode)) {
    issues.push({ path: 'train_mode', message: trainModeIssue(trainMode) });
    return method;
  }
  if (method === undefined) return methodFromTrainMode(trainMode as TrainMode, config);
  if (isMethod(method) && METHOD_INFO[method].trainMode !== trainMode) {
    issues.push({
      path: 'train_mode',
      message: `is ${trainMode} but method ${method} trains with train_mode ${METHOD_INFO[method].trainMode}; keep one of them`,
    });
  }
  return method;
}

function loraWarnings(body: Record<string, unknown>, warnings: FieldIssue[]): void {
  const lora = body.lora_parameters;
  if (!isMapping(lora)) return;
  const kept = { ...lora };
  for (const key of IGNORED_LORA_KEYS) {
    if (!(key in kept)) continue;
    delete kept[key];
    warnings.push({
      path: `lora_parameters.${key}`,
      message: 'ignored: mlx-lm-lora reads only rank, dropout and scale',
    });
  }
  body.lora_parameters = kept;
}

function upstreamDifferences(body: Record<string, unknown>, warnings: FieldIssue[]): void {
  for (const [key, cliDefault] of Object.entries(UPSTREAM_IGNORES_FROM_YAML)) {
    const v = body[key];
    if (v === undefined || v === cliDefault) continue;
    warnings.push({
      path: key,
      message: `${String(v)} applies here (passed on the command line); note that \`mlx_lm_lora.train -c\` ignores this YAML key and uses ${cliDefault}`,
    });
  }
  if (body.fuse === undefined) {
    warnings.push({
      path: 'fuse',
      message:
        'not set: the service does not fuse (upstream fuses by default); set fuse: true for a fused model',
    });
  }
}

/**
 * Converts a parsed upstream YAML config into a run request body. Null values mean "unset", as upstream reads them.
 * Throws RequestValidationError for what the service cannot run (train: false, a bad train_mode); every other key
 * is left for parseRunRequest, which names unknown and unsupported ones.
 */
export function runRequestFromYamlConfig(config: unknown): YamlRunRequest {
  if (!isMapping(config)) {
    throw new RequestValidationError([
      { path: '', message: 'a YAML config must be a mapping of option: value' },
    ]);
  }
  const issues: FieldIssue[] = [];
  const warnings: FieldIssue[] = [];
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === null || key === 'train_mode' || key === 'method') continue;
    if (key === 'train') {
      if (value === true) warnings.push({ path: 'train', message: 'ignored: every run trains' });
      else
        issues.push({
          path: 'train',
          message:
            'must be true (or left out): the service queues training runs; test-only evaluation cannot be queued',
        });
      continue;
    }
    const ignored = IGNORED_KEYS[key];
    if (ignored) {
      warnings.push({ path: key, message: ignored });
      continue;
    }
    body[key] = value;
  }
  const method = resolveMethod(config, issues);
  if (issues.length > 0) throw new RequestValidationError(issues);
  loraWarnings(body, warnings);
  upstreamDifferences(body, warnings);
  return { body: { method, ...body }, warnings };
}
