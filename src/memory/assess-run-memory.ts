// Estimates a request's peak memory from its model files and dataset lengths, and judges it against the workers.
import type { DatasetReport } from '../datasets/validate-dataset.js';
import { suggestChanges, type Suggestion, type WorkerMemory } from '../domain/memory-advice.js';
import type { TunedMargin } from '../domain/memory-calibration.js';
import {
  estimateMemory,
  JUDGE_MODES,
  type MemoryInputs,
  memoryInputs,
  type MemoryModels,
  REFERENCE_MODES,
} from '../domain/memory-estimate.js';
import { METHOD_INFO } from '../domain/methods.js';
import type { ModelShape } from '../domain/model-shape.js';
import { largestWorker, type RunMemory, runMemory } from '../domain/run-memory.js';
import type { RunRequest } from '../domain/run-request.js';
import { readModelShape } from '../inputs/model-files.js';

export interface MemoryDeps {
  hubCache: string;
  margin: number;
  /** The margin for the run's model family, tuned from calibration (src/domain/memory-calibration.ts); else `margin`. */
  tune?: (method: string, family: string) => TunedMargin;
  workers: () => WorkerMemory[];
}

export interface MemoryAssessment {
  memory: RunMemory;
  /** Changes that fit the largest worker, when the run does not fit as asked. */
  suggestions: Suggestion[];
  models: MemoryModels | null;
  inputs: MemoryInputs;
}

/** config.json is read at most once every few seconds per model (submits come in bursts, sweeps by the hundred). */
const SHAPE_TTL_MS = 5000;
const shapes = new Map<string, { at: number; shape: Promise<ModelShape | { error: string }> }>();

function shapeOf(model: string, hubCache: string): Promise<ModelShape | { error: string }> {
  const key = `${hubCache}\0${model}`;
  const now = Date.now();
  const hit = shapes.get(key);
  if (hit && now - hit.at < SHAPE_TTL_MS) return hit.shape;
  const shape = readModelShape(model, hubCache);
  shapes.set(key, { at: now, shape });
  if (shapes.size > 256) shapes.delete(shapes.keys().next().value!);
  return shape;
}

async function loadModels(request: RunRequest, hubCache: string): Promise<MemoryModels | { error: string }> {
  const mode = METHOD_INFO[request.method].trainMode;
  const model = await shapeOf(request.model, hubCache);
  if ('error' in model) return model;
  const refPath = typeof request.reference_model_path === 'string' ? request.reference_model_path : null;
  let reference: ModelShape | null = null;
  if (REFERENCE_MODES.includes(mode) && refPath) {
    const r = await shapeOf(refPath, hubCache);
    if ('error' in r) return { error: `reference model: ${r.error}` };
    reference = r;
  }
  let judge: ModelShape | null = null;
  if (JUDGE_MODES.includes(mode) && typeof request.judge === 'string' && request.judge !== refPath) {
    const j = await shapeOf(request.judge, hubCache);
    if ('error' in j) return { error: `judge: ${j.error}` };
    judge = j;
  }
  return { model, reference, judge };
}

export async function assessRunMemory(
  request: RunRequest,
  dataset: DatasetReport | null,
  deps: MemoryDeps,
): Promise<MemoryAssessment> {
  const inputs = memoryInputs(
    request,
    METHOD_INFO[request.method].trainMode,
    dataset?.lengths?.longestTokensEstimate ?? null,
  );
  const workers = deps.workers();
  const models = await loadModels(request, deps.hubCache);
  if ('error' in models)
    return { memory: runMemory(models, workers, deps.margin), suggestions: [], models: null, inputs };
  const estimate = estimateMemory(models, inputs);
  const tuned = deps.tune?.(request.method, estimate.basis.family) ?? null;
  const margin = tuned?.margin ?? deps.margin;
  const memory = runMemory(estimate, workers, margin);
  if (tuned && tuned.margin !== deps.margin) memory.notes = [...memory.notes, tuned.source];
  const largest = largestWorker(workers);
  const accumulation =
    typeof request.gradient_accumulation_steps === 'number' ? request.gradient_accumulation_steps : 1;
  const suggestions =
    memory.fit === 'no' && largest
      ? suggestChanges(models, inputs, accumulation, largest.usableGb, margin)
      : [];
  return { memory, suggestions, models, inputs };
}
