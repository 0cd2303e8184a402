// After an out-of-memory failure: the run's record (measured peak, estimate, advice) and, with on_oom "reduce",
// the smaller request the next attempt runs with.
import type { Db } from '../db/client.js';
import { maxMetricValue } from '../db/metrics-repository.js';
import { buildCommand } from '../domain/build-command.js';
import { MAX_OOM_REDUCTIONS, oomAdvice, reductionPlan } from '../domain/memory-advice.js';
import { memoryInputs } from '../domain/memory-estimate.js';
import type { Run } from '../domain/run.js';
import type { OutOfMemory } from '../domain/run-memory.js';
import type { RunRequest } from '../domain/run-request.js';
import { readModelShape } from '../inputs/model-files.js';
import type { Config } from '../shared/config.js';

const REDUCED_KEYS = ['batch_size', 'gradient_accumulation_steps', 'grad_checkpoint', 'num_layers'] as const;
/** Upstream's own starting point (LORA.md) when the model's layer count cannot be read. */
const FALLBACK_LAYERS = 16;

export interface OomDecision {
  outOfMemory: OutOfMemory;
  peakMemoryGb: number | null;
  /** Set when on_oom "reduce" has a step left: the request and argv of the next attempt. */
  retry: { request: RunRequest; argv: string[]; reason: string } | null;
  /** The error to keep on the run: the trainer's words and the advice. */
  error: string;
}

export async function decideOnOom(
  db: Db,
  config: Config,
  run: Run,
  attempt: number,
  message: string,
  dataDir: string,
): Promise<OomDecision> {
  const peak = maxMetricValue(db, run.id, 'peak_memory_gb');
  const previous = run.outOfMemory;
  const original =
    previous?.original ??
    Object.fromEntries(
      REDUCED_KEYS.filter((k) => run.request[k] !== undefined).map((k) => [k, run.request[k]]),
    );
  const accumulation =
    typeof run.request.gradient_accumulation_steps === 'number' ? run.request.gradient_accumulation_steps : 1;
  const estimateGb = run.memory?.estimate_gb ?? null;
  const advice = oomAdvice(memoryInputs(run.request, run.trainMode, null), accumulation, estimateGb, peak);
  const reductions = previous?.reductions ?? [];
  const record: OutOfMemory = {
    peak_gb: peak,
    estimate_gb: estimateGb,
    message,
    advice,
    reductions,
    original,
  };
  let retry: OomDecision['retry'] = null;
  if (run.request.on_oom === 'reduce' && reductions.length < MAX_OOM_REDUCTIONS) {
    const shape = await readModelShape(run.model, config.hfHubCache);
    const layers = 'error' in shape ? FALLBACK_LAYERS : shape.layers;
    const unreduced = { ...run.request, ...original };
    for (const k of REDUCED_KEYS) if (!(k in original)) delete unreduced[k];
    const next = reductionPlan(unreduced, layers)[reductions.length];
    if (next) {
      const request = { ...unreduced, ...next.change };
      const argv = buildCommand(request, { python: config.mlxPython, runDir: run.runDir, dataDir }).argv;
      record.reductions = [
        ...reductions,
        { attempt: attempt + 1, step: next.step, change: next.change, why: next.why },
      ];
      retry = {
        request,
        argv,
        reason: `out of memory; on_oom reduce: retry ${next.step} of ${MAX_OOM_REDUCTIONS} with ${next.why}`,
      };
    }
  }
  const tried =
    record.reductions.length > 0
      ? `\nRetried with smaller settings: ${record.reductions.map((r) => r.why).join('; ')}.`
      : '';
  const error = `Out of memory: ${message}\n${advice.map((a) => `- ${a}`).join('\n')}${tried}`;
  return { outOfMemory: record, peakMemoryGb: peak, retry, error };
}
