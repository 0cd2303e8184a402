// Pure: the peak-memory estimate of a LoRA training run (the formula of the facts file, §7 of the mlx-lm notes),
// with its breakdown, from the model's shape and the request.
import { MODE_TABLE, modesWhere, type TrainMode } from './methods.js';
import { type ModelShape, parameterCount } from './model-shape.js';
import type { RunRequest } from './run-request.js';

const GB = 1e9;
/** Runtime, Metal buffers, tokenizer: the formula's fixed 0.5 GB. */
const OVERHEAD_BYTES = 0.5 * GB;
/** `--load-in-*` quantizes with group_size 128 (facts §7). */
const LOAD_IN_GROUP_SIZE = 128;
/** The published expected error for dense Llama- or Qwen-style models when s is the real padded length. */
export const EXPECTED_ERROR = 0.35;

/** Modes that load a second, reference copy of the weights (unquantized even with --load-in-*). */
export const REFERENCE_MODES: readonly TrainMode[] = modesWhere((m) => m.reference);
export const JUDGE_MODES: readonly TrainMode[] = modesWhere((m) => m.judge);
/** Modes that generate completions during training (KV cache, sequences of prompt + completion). */
const GENERATING_MODES: readonly TrainMode[] = modesWhere((m) => m.generates);

export interface MemoryInputs {
  trainMode: TrainMode;
  trainType: 'lora' | 'dora' | 'full';
  batchSize: number;
  maxSeqLength: number;
  /** Longest train/valid sequence in tokens (estimated from bytes); null when unknown, then max_seq_length is used. */
  longestTokens: number | null;
  rank: number;
  /** Adapted layers from the top; -1 means all. */
  numLayers: number;
  gradCheckpoint: boolean;
  /** `--load-in-*`: bits, or 'mxfp4'; null when the weights are used as stored. */
  loadIn: 4 | 6 | 8 | 'mxfp4' | null;
  groupSize: number;
  maxCompletionLength: number;
}

export interface MemoryModels {
  model: ModelShape;
  /** A reference model other than the trained one (reference_model_path); null means the model itself. */
  reference: ModelShape | null;
  /** The judge of the online modes; null when the mode has none or it reuses the reference model. */
  judge: ModelShape | null;
}

export type MemoryBreakdown = {
  weights: number;
  reference: number;
  judge: number;
  /** LoRA parameters, gradients and Adam state (fp32); for full fine-tuning, the weights' gradients and state. */
  lora: number;
  activations: number;
  logits: number;
  /** Attention scores of one layer, plus the KV cache of generating modes. */
  attention: number;
  overhead: number;
};

export interface MemoryEstimate {
  estimateGb: number;
  /** GB per term; they add up to estimateGb (each rounded to 0.01). */
  breakdown: MemoryBreakdown;
  basis: {
    family: string;
    sequences: number;
    seqLength: number;
    lengthFrom: 'dataset' | 'max_seq_length';
    adaptedLayers: number;
    expectedError: number;
  };
  notes: string[];
}

/** s = min(max_seq_length, 1 + 32·⌈longest/32⌉), the padded length of the longest row in a batch. */
export function paddedLength(longest: number, maxSeqLength: number): number {
  return Math.min(maxSeqLength, 1 + 32 * Math.ceil(longest / 32));
}

function weightBytes(m: ModelShape, loadIn: MemoryInputs['loadIn']): number {
  const p = parameterCount(m);
  if (loadIn !== null && m.quantization === null) {
    return loadIn === 'mxfp4' ? p * (4 / 8 + 1 / 32) : p * (loadIn / 8 + 4 / LOAD_IN_GROUP_SIZE);
  }
  if (m.weightFileBytes !== null) return m.weightFileBytes;
  if (m.quantization) return p * (m.quantization.bits / 8 + 4 / m.quantization.groupSize);
  return p * 2;
}

/** Weights as stored (the reference model ignores --load-in-*). */
const storedWeightBytes = (m: ModelShape) => weightBytes(m, null);

/** Sequences per example (chosen + rejected, or completions per prompt), from the table of methods. */
function sequencesPerExample(i: MemoryInputs): number {
  const n = MODE_TABLE[i.trainMode].sequencesPerExample;
  return n === 'group_size' ? i.groupSize : n;
}

function sequencesAndLength(i: MemoryInputs): {
  sequences: number;
  s: number;
  lengthFrom: 'dataset' | 'max_seq_length';
} {
  const lengthFrom = i.longestTokens === null ? 'max_seq_length' : 'dataset';
  const longest = i.longestTokens ?? i.maxSeqLength;
  const sequences = i.batchSize * sequencesPerExample(i);
  // Prompts grow by up to max_completion_length generated tokens; GRPO scores group_size completions per prompt.
  if (GENERATING_MODES.includes(i.trainMode))
    return {
      sequences,
      s: paddedLength(longest + i.maxCompletionLength, Number.MAX_SAFE_INTEGER),
      lengthFrom,
    };
  return { sequences, s: paddedLength(longest, i.maxSeqLength), lengthFrom };
}

/** Peak ≈ W + LoRA + (Act | Act_gc) + Logits + Attn + 0.5 GB, plus reference and judge weights by mode. */
export function estimateMemory(models: MemoryModels, i: MemoryInputs): MemoryEstimate {
  const m = models.model;
  const { hidden: h, layers: l, intermediate: inter, vocab: v } = m;
  const hq = m.heads * m.headDim;
  const hkv = m.kvHeads * m.headDim;
  const n = i.numLayers < 0 ? l : Math.min(i.numLayers, l);
  const { sequences: b, s, lengthFrom } = sequencesAndLength(i);
  const notes: string[] = [];
  const w = weightBytes(m, i.loadIn);
  const perLayerAct = 2 * (4 * h + 2 * hq + 2 * hkv + 4 * inter);
  const full = i.trainType === 'full';
  const adapted = full ? l : n;
  const activations = i.gradCheckpoint
    ? adapted * b * s * 2 * h + b * s * perLayerAct
    : adapted * b * s * perLayerAct;
  const lora = full ? 3 * w : 16 * n * i.rank * (7 * h + 2 * hq + 2 * hkv + 3 * inter);
  if (full)
    notes.push(
      'full fine-tuning: gradients and Adam state counted as 3× the weights (outside the published formula)',
    );
  const reference = REFERENCE_MODES.includes(i.trainMode) ? storedWeightBytes(models.reference ?? m) : 0;
  const judge = JUDGE_MODES.includes(i.trainMode) && models.judge ? storedWeightBytes(models.judge) : 0;
  const kvCache = GENERATING_MODES.includes(i.trainMode) ? 2 * l * hkv * b * s * 2 : 0;
  const breakdown: MemoryBreakdown = {
    weights: w,
    reference,
    judge,
    lora,
    activations,
    logits: 6 * b * s * v,
    attention: 6 * b * m.heads * s * s + kvCache,
    overhead: OVERHEAD_BYTES,
  };
  const rounded = Object.fromEntries(
    Object.entries(breakdown).map(([k, bytes]) => [k, round2(bytes / GB)]),
  ) as unknown as MemoryBreakdown;
  const estimateGb = round2(Object.values(rounded).reduce((a, x) => a + x, 0));
  if (lengthFrom === 'max_seq_length')
    notes.push(`sequence length unknown: max_seq_length ${i.maxSeqLength} assumed`);
  else
    notes.push(
      `sequence length from the dataset's longest row, ${i.longestTokens} tokens estimated from its bytes (≈4 bytes per token)`,
    );
  if (m.weightFileBytes === null && !(i.loadIn !== null && m.quantization === null))
    notes.push('weights computed from config.json (no model*.safetensors visible)');
  if (m.caveat) notes.push(`${m.caveat}: expect a larger error than ±35%`);
  if (GENERATING_MODES.includes(i.trainMode))
    notes.push('generating mode: larger error than ±35% (completion lengths vary)');
  return {
    estimateGb,
    breakdown: rounded,
    basis: {
      family: m.family,
      sequences: b,
      seqLength: s,
      lengthFrom,
      adaptedLayers: adapted,
      expectedError: EXPECTED_ERROR,
    },
    notes,
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;

const num = (v: unknown, fallback: number) => (typeof v === 'number' && Number.isFinite(v) ? v : fallback);

/** The estimate's inputs from a request, with mlx-lm-lora's defaults where the request leaves an option out. */
export function memoryInputs(
  request: RunRequest,
  trainMode: TrainMode,
  longestTokens: number | null,
): MemoryInputs {
  const lora = (request.lora_parameters ?? {}) as { rank?: unknown };
  const loadIn =
    request.load_in_4bits === true
      ? 4
      : request.load_in_6bits === true
        ? 6
        : request.load_in_8bits === true
          ? 8
          : request.load_in_mxfp4 === true
            ? 'mxfp4'
            : null;
  const trainType =
    request.train_type === 'full' || request.train_type === 'dora' ? request.train_type : 'lora';
  return {
    trainMode,
    trainType,
    batchSize: num(request.batch_size, 4),
    maxSeqLength: num(request.max_seq_length, 2048),
    longestTokens,
    rank: num(lora.rank, 8),
    numLayers: num(request.num_layers, -1),
    gradCheckpoint: request.grad_checkpoint === true,
    loadIn,
    groupSize: num(request.group_size, 4),
    maxCompletionLength: num(request.max_completion_length, 512),
  };
}
