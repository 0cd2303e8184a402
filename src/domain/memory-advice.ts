// Pure: what a worker can hold, whether a run fits, and which request changes make it fit (admission, OOM advice).
import { estimateMemory, EXPECTED_ERROR, type MemoryInputs, type MemoryModels } from './memory-estimate.js';

const GB = 1e9;
/** The facts' suggestion: run only if Peak × 1.2 < max_recommended_working_set_size. */
export const DEFAULT_MEMORY_MARGIN = 1.2;

export interface WorkerMemory {
  worker: string;
  totalGb: number;
  usableGb: number;
  /** How usableGb was found: Metal's recommended working set, or the documented fraction of RAM. */
  source: 'recommended_working_set' | 'fraction_of_ram';
}

/**
 * Metal's max_recommended_working_set_size is ≈⅔ of RAM on small Macs (8 GB: 5461 MB) and ¾ on large ones
 * (64 GB: 49152 MB); the step is taken at 36 GB. Used when the worker cannot ask Metal itself.
 */
export function usableFromRam(totalBytes: number): number {
  const gb = totalBytes / GB;
  return Math.round(gb * (gb <= 36 ? 2 / 3 : 3 / 4) * 100) / 100;
}

export type Fit = 'fits' | 'tight' | 'no';

/** fits: estimate × margin ≤ usable; tight: it fits by the margin but not at the estimate's upper error (+35%). */
export function fitOn(estimateGb: number, usableGb: number, margin: number): Fit {
  if (estimateGb * margin > usableGb) return 'no';
  return estimateGb * (1 + EXPECTED_ERROR) > usableGb ? 'tight' : 'fits';
}

export interface Suggestion {
  /** Request keys and their new values. */
  change: Record<string, unknown>;
  estimateGb: number;
  fits: boolean;
  why: string;
}

interface Candidate {
  change: Record<string, unknown>;
  inputs: MemoryInputs;
  why: string;
}

function halvings(from: number, min: number): number[] {
  const out: number[] = [];
  for (let x = Math.floor(from / 2); x >= min; x = Math.floor(x / 2)) out.push(x);
  return out;
}

/** Each single change the facts' guidance names, at every strength, weakest first. */
function candidates(models: MemoryModels, i: MemoryInputs, accumulation: number): Candidate[][] {
  const out: Candidate[][] = [];
  if (!i.gradCheckpoint)
    out.push([
      {
        change: { grad_checkpoint: true },
        inputs: { ...i, gradCheckpoint: true },
        why: 'keeps one layer of activations instead of all adapted layers',
      },
    ]);
  out.push(
    halvings(i.batchSize, 1).map((b) => {
      const acc = Math.ceil((accumulation * i.batchSize) / b);
      return {
        change: { batch_size: b, gradient_accumulation_steps: acc },
        inputs: { ...i, batchSize: b },
        why: `same effective batch (${i.batchSize * accumulation})`,
      };
    }),
  );
  const adapted = i.numLayers < 0 ? models.model.layers : i.numLayers;
  if (i.trainType !== 'full') {
    out.push(
      [8, 4, 2, 1]
        .filter((n) => n < adapted)
        .map((n) => ({
          change: { num_layers: n },
          inputs: { ...i, numLayers: n },
          why: 'fewer adapted layers keep fewer activations and LoRA weights',
        })),
    );
  }
  if (models.model.quantization === null && i.loadIn !== 4) {
    out.push([
      {
        change: { load_in_4bits: true },
        inputs: { ...i, loadIn: 4 },
        why: 'QLoRA: the trained model is quantized to 4 bits on load',
      },
    ]);
  }
  const s = i.longestTokens === null ? i.maxSeqLength : Math.min(i.maxSeqLength, i.longestTokens);
  out.push(
    halvings(s, 128).map((len) => ({
      change: { max_seq_length: len },
      inputs: {
        ...i,
        maxSeqLength: len,
        longestTokens: i.longestTokens === null ? null : Math.min(i.longestTokens, len),
      },
      why: 'rows longer than this are truncated',
    })),
  );
  return out.filter((group) => group.length > 0);
}

/**
 * Concrete changes that would make the run fit in `usableGb`, each with its new estimate: per kind of change the
 * weakest one that fits; when none fits alone, all of them together at their strongest.
 */
export function suggestChanges(
  models: MemoryModels,
  i: MemoryInputs,
  accumulation: number,
  usableGb: number,
  margin: number,
): Suggestion[] {
  const groups = candidates(models, i, accumulation);
  const judge = (c: Candidate): Suggestion => {
    const estimateGb = estimateMemory(models, c.inputs).estimateGb;
    return { change: c.change, estimateGb, fits: estimateGb * margin <= usableGb, why: c.why };
  };
  const singles = groups
    .map((g) => g.map(judge).find((s) => s.fits))
    .filter((s): s is Suggestion => s !== undefined);
  if (singles.length > 0) return singles;
  const strongest = groups.map((g) => g[g.length - 1]!);
  const combined = strongest.reduce<Candidate>(
    (acc, c) => ({
      change: { ...acc.change, ...c.change },
      inputs: mergeInputs(acc.inputs, c.change, c.inputs),
      why: 'all changes together',
    }),
    { change: {}, inputs: i, why: '' },
  );
  return [judge(combined)];
}

function mergeInputs(acc: MemoryInputs, change: Record<string, unknown>, from: MemoryInputs): MemoryInputs {
  const next = { ...acc };
  if ('grad_checkpoint' in change) next.gradCheckpoint = from.gradCheckpoint;
  if ('batch_size' in change) next.batchSize = from.batchSize;
  if ('num_layers' in change) next.numLayers = from.numLayers;
  if ('load_in_4bits' in change) next.loadIn = from.loadIn;
  if ('max_seq_length' in change) {
    next.maxSeqLength = from.maxSeqLength;
    next.longestTokens = from.longestTokens;
  }
  return next;
}

/** Advice after an out-of-memory failure, in the order of upstream's guidance ("Memory Issues" in LORA.md). */
export function oomAdvice(
  i: MemoryInputs,
  accumulation: number,
  estimateGb: number | null,
  peakGb: number | null,
): string[] {
  const advice: string[] = [];
  if (i.batchSize > 1) {
    const b = Math.max(1, Math.floor(i.batchSize / 2));
    advice.push(
      `batch_size ${i.batchSize} → ${b} with gradient_accumulation_steps ${Math.ceil((accumulation * i.batchSize) / b)} (same effective batch)`,
    );
  }
  if (!i.gradCheckpoint)
    advice.push('grad_checkpoint: true (helps most with long sequences and large batches)');
  if (i.numLayers < 0 || i.numLayers > 4)
    advice.push(`num_layers ${i.numLayers < 0 ? 'all' : i.numLayers} → 8 or 4`);
  if (i.loadIn === null) advice.push('load_in_4bits: true (QLoRA), or a 4-bit model');
  advice.push('shorter max_seq_length or shorter rows');
  advice.push(
    'on_oom: "reduce" lets the service retry with a halved batch, then grad checkpointing, then fewer layers',
  );
  const measured =
    peakGb === null
      ? 'no peak reported before the failure'
      : `measured peak ${peakGb.toFixed(2)} GB before the failure`;
  advice.unshift(`${measured}; estimate ${estimateGb === null ? 'unknown' : `${estimateGb.toFixed(2)} GB`}`);
  return advice;
}

export interface Reduction {
  /** 1-based retry number. */
  step: number;
  /** Request keys and their values for this retry (cumulative: earlier reductions stay). */
  change: Record<string, unknown>;
  why: string;
}

export const MAX_OOM_REDUCTIONS = 3;

/**
 * The on_oom "reduce" retries for a request, in order: halve batch_size (doubling gradient_accumulation_steps),
 * then grad_checkpoint, then halve num_layers; a step that cannot apply gives way to the next, then the cycle
 * repeats. At most 3; fewer when nothing is left to reduce.
 */
export function reductionPlan(request: Record<string, unknown>, layers: number): Reduction[] {
  let batch = typeof request.batch_size === 'number' ? request.batch_size : 4;
  let accumulation =
    typeof request.gradient_accumulation_steps === 'number' ? request.gradient_accumulation_steps : 1;
  let checkpoint = request.grad_checkpoint === true;
  let n =
    typeof request.num_layers === 'number' && request.num_layers > 0
      ? Math.min(request.num_layers, layers)
      : layers;
  const change: Record<string, unknown> = {};
  const plan: Reduction[] = [];
  const actions: (() => string | null)[] = [
    () => {
      if (batch <= 1) return null;
      batch = Math.floor(batch / 2);
      accumulation *= 2;
      Object.assign(change, { batch_size: batch, gradient_accumulation_steps: accumulation });
      return `batch_size ${batch} with gradient_accumulation_steps ${accumulation}`;
    },
    () => {
      if (checkpoint) return null;
      checkpoint = true;
      change.grad_checkpoint = true;
      return 'grad_checkpoint on';
    },
    () => {
      if (n <= 1) return null;
      n = Math.floor(n / 2);
      change.num_layers = n;
      return `num_layers ${n}`;
    },
  ];
  for (let k = 0, idle = 0; plan.length < MAX_OOM_REDUCTIONS && idle < actions.length; k++) {
    const why = actions[k % actions.length]!();
    if (why === null) idle++;
    else {
      idle = 0;
      plan.push({ step: plan.length + 1, change: { ...change }, why });
    }
  }
  return plan;
}

export const bytesToGb = (bytes: number) => Math.round((bytes / GB) * 100) / 100;
