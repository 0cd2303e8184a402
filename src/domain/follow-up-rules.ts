// Pure request rules for follow-up jobs: which evaluation works for a run's method, what can be fused, GGUF support.
import type { DatasetFormat } from './dataset-keys.js';
import { RequestValidationError } from './errors.js';
import type { FollowUpRequest } from './follow-up-request.js';
import { type Method, METHOD_INFO } from './methods.js';

export interface Quantization {
  bits: number;
  group_size: number;
}

/** What the rules need to know about a run and its base model. */
export interface FollowUpFacts {
  method: Method;
  trainType: 'lora' | 'dora' | 'full';
  /** config.json of the base model; null when it is not a local folder and not in the Hugging Face cache. */
  modelType: string | null;
  quantization: Quantization | null;
  /** `python -m mlx_lm --version` on the worker, when known. */
  mlxLmVersion: string | null;
}

export const GGUF_MODEL_TYPES = ['llama', 'mistral', 'mixtral'] as const;

/** Upstream's GGUF writer fails from v0.25.1 through v0.31.3 (mlx-lm #1723, fixed at 7283fb34, 0.32.0). */
export function ggufWriterBroken(version: string): boolean {
  const v = versionTuple(version);
  return compare(v, [0, 25, 1]) >= 0 && compare(v, [0, 31, 3]) <= 0;
}

function versionTuple(version: string): number[] {
  return version
    .split('.')
    .slice(0, 3)
    .map((p) => Number.parseInt(p.replace(/\D.*$/, ''), 10) || 0);
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

const NOT_AN_ADAPTER: Record<'dora' | 'full', string> = {
  dora: 'a DoRA adapter cannot be loaded by mlx_lm: mlx-lm-lora writes no fine_tune_type, so mlx_lm loads it as LoRA; mlx-lm 0.32 then refuses its .m tensors ("contains incompatible tensors", #1727) and 0.31.3 silently drops them, which would fuse or sample the wrong model',
  full: 'train_type full writes full model weights, not an adapter, so there is nothing to fuse or to load with --adapter-path',
};

/** The records `mlx_lm lora --test` reads: text, chat and prompt/completion. */
const MLX_LM_FORMATS: readonly DatasetFormat[] = ['sft:text', 'sft:chat', 'sft:completions'];

export type EvaluationTool = 'mlx_lm' | 'mlx_lm_lora';

/** The invocation that works for a run's method, or the reason none does. */
export function evaluationTool(
  method: Method,
  trainType: FollowUpFacts['trainType'],
): { tool: EvaluationTool } | { refused: string } {
  const { dataset, test } = METHOD_INFO[method].mode;
  if (dataset.formats.every((f) => MLX_LM_FORMATS.includes(f))) {
    // mlx_lm lora --test reads these records (mlx_lm_lora.train --test crashes for sft at 3.1.2).
    if (trainType !== 'lora')
      return { refused: `cannot evaluate with mlx_lm lora --test: ${NOT_AN_ADAPTER[trainType]}` };
    return { tool: 'mlx_lm' };
  }
  if (test !== 'works') {
    return {
      refused: `no evaluation works for ${method} at mlx-lm-lora 3.1.2: mlx_lm_lora.train --test crashes (${test.crashes}), and mlx_lm lora --test reads only text, chat and prompt/completion records`,
    };
  }
  return { tool: 'mlx_lm_lora' };
}

/** Whether a fuse dequantizes: "auto" does when the base is quantized. */
export function shouldDequantize(option: 'auto' | boolean, quantization: Quantization | null): boolean {
  return option === 'auto' ? quantization !== null : option;
}

/** Bytes a fuse writes: the model's size times the dequantization factor (16-bit weights from bits + scales). */
export function fuseDiskEstimate(
  modelBytes: number,
  quantization: Quantization | null,
  dequantize: boolean,
): number {
  if (!quantization || !dequantize) return modelBytes;
  return Math.ceil((modelBytes * 16) / (quantization.bits + 32 / quantization.group_size));
}

/** Throws a 400 naming the field when a follow-up cannot work for this run. */
export function checkFollowUp(req: FollowUpRequest, facts: FollowUpFacts, field = ''): void {
  const at = (name: string) => [field, name].filter(Boolean).join('.');
  switch (req.kind) {
    case 'evaluate': {
      const plan = evaluationTool(facts.method, facts.trainType);
      if ('refused' in plan) throw new RequestValidationError([{ path: at('kind'), message: plan.refused }]);
      return;
    }
    case 'samples':
    case 'fuse':
      if (facts.trainType !== 'lora')
        throw new RequestValidationError([
          {
            path: at('kind'),
            message: `cannot ${req.kind === 'fuse' ? 'fuse' : 'sample'} this run: ${NOT_AN_ADAPTER[facts.trainType]}`,
          },
        ]);
      return;
    case 'export':
      if (facts.trainType !== 'lora')
        throw new RequestValidationError([
          {
            path: at('kind'),
            message: `cannot export this run (an export starts from a fuse): ${NOT_AN_ADAPTER[facts.trainType]}`,
          },
        ]);
      if (req.format === 'gguf') checkGguf(facts, at('format'));
      return;
  }
}

function checkGguf(facts: FollowUpFacts, path: string): void {
  const supported = `supported: ${GGUF_MODEL_TYPES.join(', ')} with mlx-lm 0.32.0 or later`;
  if (facts.modelType === null) {
    throw new RequestValidationError([
      {
        path,
        message: `gguf: cannot tell the model type (no local config.json for the run's model); ${supported}`,
      },
    ]);
  }
  if (!(GGUF_MODEL_TYPES as readonly string[]).includes(facts.modelType)) {
    throw new RequestValidationError([
      { path, message: `gguf export does not support model type ${facts.modelType}; ${supported}` },
    ]);
  }
  if (facts.mlxLmVersion && ggufWriterBroken(facts.mlxLmVersion)) {
    throw new RequestValidationError([
      {
        path,
        message: `gguf export is broken in mlx-lm ${facts.mlxLmVersion} (v0.25.1 through v0.31.3: "[save_gguf] can only serialize row-major arrays", #1723); ${supported}`,
      },
    ]);
  }
}
