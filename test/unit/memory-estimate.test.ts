import { describe, expect, it } from 'vitest';

import {
  estimateMemory,
  EXPECTED_ERROR,
  type MemoryInputs,
  memoryInputs,
  paddedLength,
} from '../../src/domain/memory-estimate.js';
import { parameterCount, parseModelConfig } from '../../src/domain/model-shape.js';
import type { RunRequest } from '../../src/domain/run-request.js';
import { sequenceBytes, tokensFromBytes } from '../../src/domain/sequence-length.js';
import { llama3_8b, PUBLISHED_INPUTS } from '../helpers/memory-fixtures.js';

const llama = llama3_8b;
const base: MemoryInputs = PUBLISHED_INPUTS;

const sum = (b: Record<string, number>) => Object.values(b).reduce((a, x) => a + x, 0);

describe('the peak-memory estimate against the published figures', () => {
  it('Llama-3-8B (fp16), 1 layer, batch 4, length 2048: within ±35% of the measured 26.66 GB, ≈27.5 GB as the facts compute', () => {
    const e = estimateMemory({ model: llama(), reference: null, judge: null }, base);
    expect(Math.abs(e.estimateGb - 26.66) / 26.66).toBeLessThanOrEqual(EXPECTED_ERROR);
    expect(e.estimateGb).toBeCloseTo(27.5, 0);
    expect(e.basis).toMatchObject({
      family: 'llama',
      sequences: 4,
      seqLength: 2048,
      adaptedLayers: 1,
      lengthFrom: 'dataset',
    });
    // Each term as the formula gives it (decimal GB).
    expect(e.breakdown.weights).toBeCloseTo(16.06, 2); // P = 8.03e9 parameters × 2 bytes
    expect(e.breakdown.logits).toBeCloseTo(6.3, 1); // 6·b·s·V
    expect(e.breakdown.attention).toBeCloseTo(3.22, 2); // 6·b·heads·s²
    expect(e.breakdown.activations).toBeCloseTo(1.38, 2); // N·b·s·2·(4H + 2Hq + 2Hkv + 4I)
    expect(e.breakdown.lora).toBeCloseTo(0.01, 2); // 16·N·r·(7H + 2Hq + 2Hkv + 3I)
    expect(e.breakdown.overhead).toBe(0.5);
    expect(e.breakdown.reference + e.breakdown.judge).toBe(0);
    expect(sum({ ...e.breakdown })).toBeCloseTo(e.estimateGb, 5);
  });

  it('P from config.json is the published formula (Llama-3-8B: 8.03e9)', () => {
    expect(parameterCount(llama())).toBe(8_029_995_008);
  });

  it('the weight files on disk, when visible, replace the weights from config.json', () => {
    const m = { ...llama(), weightFileBytes: 16_070_000_000 };
    expect(estimateMemory({ model: m, reference: null, judge: null }, base).breakdown.weights).toBe(16.07);
  });

  it('an unknown length falls back to max_seq_length and says so; a dataset length is padded to 1 + 32·⌈n/32⌉', () => {
    const e = estimateMemory(
      { model: llama(), reference: null, judge: null },
      { ...base, longestTokens: null, maxSeqLength: 1024 },
    );
    expect(e.basis.seqLength).toBe(1024);
    expect(e.notes.join(' ')).toMatch(/max_seq_length 1024 assumed/);
    expect(paddedLength(100, 2048)).toBe(129);
    expect(paddedLength(5000, 2048)).toBe(2048);
  });
});

describe('per-mode factors', () => {
  const models = { model: llama(), reference: null, judge: null };
  const sft = estimateMemory(models, base);

  it('DPO, CPO and ORPO train on 2b sequences (chosen + rejected); DPO adds an unquantized reference, CPO and ORPO none', () => {
    for (const mode of ['dpo', 'cpo', 'orpo'] as const) {
      const e = estimateMemory(models, { ...base, trainMode: mode });
      expect(e.basis.sequences).toBe(8);
      expect(e.breakdown.logits).toBeCloseTo(2 * sft.breakdown.logits, 1);
      expect(e.breakdown.attention).toBeCloseTo(2 * sft.breakdown.attention, 1);
      expect(e.breakdown.reference).toBe(mode === 'dpo' ? sft.breakdown.weights : 0);
    }
  });

  it('the reference model stays unquantized with --load-in-4bits while the trained copy shrinks', () => {
    const e = estimateMemory(models, { ...base, trainMode: 'dpo', loadIn: 4 });
    expect(e.breakdown.reference).toBeCloseTo(16.06, 2);
    expect(e.breakdown.weights).toBeCloseTo((8_029_995_008 * (0.5 + 4 / 128)) / 1e9, 2);
  });

  it('GRPO scores batch × group_size sequences of prompt + completion, with a KV cache and a reference', () => {
    const e = estimateMemory(models, {
      ...base,
      trainMode: 'grpo',
      batchSize: 2,
      groupSize: 8,
      longestTokens: 100,
      maxCompletionLength: 512,
    });
    expect(e.basis.sequences).toBe(16);
    expect(e.basis.seqLength).toBe(paddedLength(612, Infinity));
    expect(e.breakdown.reference).toBeCloseTo(16.06, 2);
    const noKv = 6 * 16 * 32 * e.basis.seqLength ** 2;
    const kv = 2 * 32 * 1024 * 16 * e.basis.seqLength * 2;
    expect(e.breakdown.attention).toBeCloseTo((noKv + kv) / 1e9, 2);
    expect(e.notes.join(' ')).toMatch(/larger error/);
  });

  it('judge modes add the judge; a judge that is the reference model is not loaded twice', () => {
    const judge = { ...llama(), weightFileBytes: 4e9 };
    expect(estimateMemory({ ...models, judge }, { ...base, trainMode: 'ppo' }).breakdown.judge).toBe(4);
    expect(estimateMemory({ ...models, judge: null }, { ...base, trainMode: 'ppo' }).breakdown.judge).toBe(0);
    expect(estimateMemory({ ...models, judge }, base).breakdown.judge).toBe(0);
  });

  it('grad checkpointing keeps one layer of activations: Act_gc = N·b·s·2·H + b·s·2·(4H + 2Hq + 2Hkv + 4I)', () => {
    const all = estimateMemory(models, { ...base, numLayers: -1 });
    const gc = estimateMemory(models, { ...base, numLayers: -1, gradCheckpoint: true });
    expect(all.basis.adaptedLayers).toBe(32);
    expect(all.breakdown.activations).toBeCloseTo(32 * sft.breakdown.activations, 0);
    expect(gc.breakdown.activations).toBeCloseTo(
      (32 * 4 * 2048 * 2 * 4096) / 1e9 + sft.breakdown.activations,
      1,
    );
  });

  it('LoRA state grows with rank and layers: 16 bytes per parameter (fp32 params, grads, Adam m and v)', () => {
    const e = estimateMemory(models, { ...base, rank: 64, numLayers: 16 });
    expect(e.breakdown.lora).toBeCloseTo(
      (16 * 16 * 64 * (7 * 4096 + 2 * 4096 + 2 * 1024 + 3 * 14336)) / 1e9,
      2,
    );
  });
});

describe('inputs from a request and from dataset rows', () => {
  it('takes mlx-lm-lora defaults where the request is silent', () => {
    const req = { method: 'sft', model: 'm', data: 'd', tags: [], priority: 0, fuse: false } as RunRequest;
    expect(memoryInputs(req, 'sft', null)).toMatchObject({
      batchSize: 4,
      maxSeqLength: 2048,
      rank: 8,
      numLayers: -1,
      gradCheckpoint: false,
      loadIn: null,
      trainType: 'lora',
    });
    const q = {
      ...req,
      load_in_8bits: true,
      lora_parameters: { rank: 32 },
      grad_checkpoint: true,
      num_layers: 8,
    } as RunRequest;
    expect(memoryInputs(q, 'sft', 300)).toMatchObject({
      loadIn: 8,
      rank: 32,
      gradCheckpoint: true,
      numLayers: 8,
      longestTokens: 300,
    });
  });

  it('measures a preference pair as its longer sequence, and estimates ≈4 bytes per token', () => {
    const rec = { prompt: 'a'.repeat(100), chosen: 'b'.repeat(40), rejected: 'c'.repeat(400) };
    expect(sequenceBytes('preference', rec)).toBe(500);
    expect(sequenceBytes('sft:chat', { messages: [{ role: 'user', content: 'héllo' }] })).toBe(4 + 6);
    expect(tokensFromBytes(8192)).toBe(2048);
  });

  it('a config without the sizes gives a reason instead of a guess', () => {
    expect(parseModelConfig({ model_type: 'llama' })).toEqual({
      error: 'config.json lacks hidden_size, num_hidden_layers, vocab_size, num_attention_heads',
    });
  });
});
