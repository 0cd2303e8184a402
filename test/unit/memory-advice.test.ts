import { describe, expect, it } from 'vitest';

import {
  fitOn,
  oomAdvice,
  reductionPlan,
  suggestChanges,
  usableFromRam,
} from '../../src/domain/memory-advice.js';
import { tunedMargin } from '../../src/domain/memory-calibration.js';
import { estimateMemory } from '../../src/domain/memory-estimate.js';
import { runMemory } from '../../src/domain/run-memory.js';
import { llama3_8b, PUBLISHED_INPUTS } from '../helpers/memory-fixtures.js';

const llama = llama3_8b();
const models = { model: llama, reference: null, judge: null };
const inputs = PUBLISHED_INPUTS;

describe('usable memory and fit', () => {
  it('uses ⅔ of RAM up to 36 GB and ¾ above (the measured recommended working sets)', () => {
    expect(usableFromRam(8e9)).toBeCloseTo(5.33, 2);
    expect(usableFromRam(64e9)).toBe(48);
  });

  it('fits with the margin, tight inside the +35% error, no past the margin', () => {
    expect(fitOn(10, 20, 1.2)).toBe('fits');
    expect(fitOn(10, 12.5, 1.2)).toBe('tight');
    expect(fitOn(10, 11.9, 1.2)).toBe('no');
  });

  it('reports the largest worker and whether any holds the run; no estimate says why', () => {
    const workers = [
      { worker: 'air', totalGb: 16, usableGb: 10.67, source: 'fraction_of_ram' as const },
      { worker: 'studio', totalGb: 64, usableGb: 48, source: 'fraction_of_ram' as const },
    ];
    const m = runMemory(estimateMemory(models, inputs), workers, 1.2);
    expect(m).toMatchObject({
      fits: true,
      fit: 'fits',
      largest_worker: { worker: 'studio', usable_gb: 48 },
      usable_gb_by_worker: { air: 10.67, studio: 48 },
    });
    expect(runMemory({ error: 'config.json lacks vocab_size' }, workers, 1.2)).toMatchObject({
      estimate_gb: null,
      fits: null,
      reason: 'no estimate: config.json lacks vocab_size',
    });
  });
});

describe('changes that fit', () => {
  it('each suggestion fits by its own new estimate, and keeps the effective batch when it lowers batch_size', () => {
    const s = suggestChanges(models, inputs, 2, 21.33, 1.2);
    expect(s.length).toBeGreaterThan(0);
    for (const x of s) {
      expect(x.fits).toBe(true);
      expect(x.estimateGb * 1.2).toBeLessThanOrEqual(21.33);
      if ('batch_size' in x.change)
        expect(
          (x.change.batch_size as number) * (x.change.gradient_accumulation_steps as number),
        ).toBeGreaterThanOrEqual(8);
    }
    expect(s.map((x) => Object.keys(x.change)[0])).toContain('load_in_4bits');
    expect(s.find((x) => 'max_seq_length' in x.change)?.change.max_seq_length).toBe(256);
  });

  it('when no single change is enough, all of them together are offered', () => {
    const s = suggestChanges(models, inputs, 1, 8, 1.2);
    expect(s).toHaveLength(1);
    expect(Object.keys(s[0]!.change).sort()).toEqual([
      'batch_size',
      'grad_checkpoint',
      'gradient_accumulation_steps',
      'load_in_4bits',
      'max_seq_length',
    ]);
    expect(s[0]!.fits).toBe(true);
  });
});

describe('on_oom "reduce" and advice', () => {
  it('halves the batch (doubling accumulation), then turns on grad checkpointing, then halves num_layers: at most 3', () => {
    expect(reductionPlan({ batch_size: 4, gradient_accumulation_steps: 1 }, 24)).toEqual([
      {
        step: 1,
        change: { batch_size: 2, gradient_accumulation_steps: 2 },
        why: 'batch_size 2 with gradient_accumulation_steps 2',
      },
      {
        step: 2,
        change: { batch_size: 2, gradient_accumulation_steps: 2, grad_checkpoint: true },
        why: 'grad_checkpoint on',
      },
      {
        step: 3,
        change: { batch_size: 2, gradient_accumulation_steps: 2, grad_checkpoint: true, num_layers: 12 },
        why: 'num_layers 12',
      },
    ]);
  });

  it('skips a step that cannot apply and stops when nothing is left', () => {
    expect(
      reductionPlan({ batch_size: 1, grad_checkpoint: true, num_layers: 2 }, 24).map((r) => r.change),
    ).toEqual([{ num_layers: 1 }]);
    expect(reductionPlan({ batch_size: 1, grad_checkpoint: true, num_layers: 1 }, 24)).toEqual([]);
  });

  it('advice names the measured peak, the estimate and the concrete changes', () => {
    const advice = oomAdvice(inputs, 1, estimateMemory(models, inputs).estimateGb, 30.5);
    expect(advice[0]).toBe('measured peak 30.50 GB before the failure; estimate 27.47 GB');
    expect(advice.join('\n')).toMatch(/batch_size 4 → 2 with gradient_accumulation_steps 2/);
    expect(advice.join('\n')).toMatch(/grad_checkpoint: true/);
    expect(advice.join('\n')).toMatch(/on_oom: "reduce"/);
  });
});

describe('margin tuned from calibration', () => {
  const group = (maxRatio: number, runs: number) => ({
    method: 'sft',
    family: 'llama',
    runs,
    meanRatio: maxRatio,
    meanAbsError: 0,
    maxRatio,
    withinExpectedError: 1,
  });
  it.each([
    // Too few measured runs: MEMORY_MARGIN.
    [[group(1.6, 4)], 1.2, 'MEMORY_MARGIN'],
    // The estimate undershot by up to 30%: 1.3 × 1.1 = 1.43 → 1.45.
    [[group(1.3, 5)], 1.45, 'tuned from 5'],
    // It overshoots: less margin, never below 1.0.
    [[group(0.7, 9)], 1.0, 'tuned from 9'],
    [[group(0.95, 5)], 1.05, 'tuned from 5'],
    // Never above 3.
    [[group(4, 5)], 3, 'tuned from 5'],
    // Another family's measurements do not count.
    [[{ ...group(2, 50), family: 'qwen2' }], 1.2, '0 of 5'],
  ] as const)('%j -> %s', (groups, margin, says) => {
    const t = tunedMargin(groups, 'sft', 'llama', 1.2, 5);
    expect(t.margin).toBe(margin);
    expect(t.source).toContain(says);
  });
});
