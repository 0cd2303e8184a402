// Contract tests for the stand-in mlx_lm package in test/fixtures: lora --test's report (base plus adapter against
// the fused folder) and its refusals, and convert -q.
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { EVAL_DATA, LLAMA, LLAMA_4BIT, useStandInMlxLm } from '../helpers/stand-in-mlx-lm.js';

const m = useStandInMlxLm();
const { mlx } = m;

describe('stand-in mlx_lm lora --test and convert', { timeout: 60_000 }, () => {
  /** `lora --test` over the whole eval test split, one row a batch. */
  const testReport = (model: string, adapter: string) =>
    mlx('lora', [
      '--model',
      model,
      '--adapter-path',
      adapter,
      '--data',
      EVAL_DATA,
      '--test',
      '--batch-size',
      '1',
      '--test-batches',
      '-1',
    ]);

  it('prints the test report; the fused folder with --adapter-path "" matches base plus adapter', async () => {
    const r = await testReport(LLAMA_4BIT, m.adapters);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^Loading pretrained model\nLoading datasets\nTesting\nTest loss \d+\.\d{3}, Test ppl \d+\.\d{3}\.$/,
    );
    expect(r.stderr).toContain('Calculating loss...');
    const fused = path.join(m.tmp, 'fused-eval');
    await mlx('fuse', [
      '--model',
      LLAMA_4BIT,
      '--adapter-path',
      m.adapters,
      '--save-path',
      fused,
      '--dequantize',
    ]);
    const f = await testReport(fused, '');
    expect(f.stdout).toBe(r.stdout);
  });

  it('refuses a batch larger than the test set and a missing test split', async () => {
    const big = await mlx('lora', [
      '--model',
      LLAMA,
      '--adapter-path',
      '',
      '--data',
      EVAL_DATA,
      '--test',
      '--batch-size',
      '50',
    ]);
    expect(big.stderr).toContain(
      'ValueError: Dataset must have at least batch_size=50 examples but only has 4.',
    );
    const none = await mlx('lora', [
      '--model',
      LLAMA,
      '--adapter-path',
      '',
      '--data',
      path.join(EVAL_DATA, '..', 'sft-chat'),
      '--test',
    ]);
    expect(none.stderr).toContain(
      'ValueError: Test set not found or empty. Must provide test set for evaluation.',
    );
  });

  it('convert -q writes a quantized folder and refuses an existing path', async () => {
    const out = path.join(m.tmp, 'q4');
    const r = await mlx('convert', [
      '--model',
      LLAMA,
      '--mlx-path',
      out,
      '-q',
      '--q-bits',
      '4',
      '--q-group-size',
      '64',
    ]);
    expect(r.stdout.trim().split('\n')).toEqual([
      '[INFO] Loading',
      '[INFO] Using dtype: bfloat16',
      '[INFO] Quantizing',
      '[INFO] Quantized model with 4.500 bits per weight.',
    ]);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(config.quantization).toEqual({ group_size: 64, bits: 4, mode: 'affine' });
    expect(config.quantization_config).toEqual(config.quantization);
    const again = await mlx('convert', ['--model', LLAMA, '--mlx-path', out, '-q']);
    expect(again.stderr).toContain(`ValueError: Cannot save to the path ${out} as it already exists.`);
    const both = await mlx('convert', ['--model', LLAMA, '--mlx-path', path.join(m.tmp, 'qd'), '-q', '-d']);
    expect(both.stderr).toContain('ValueError: Choose either quantize or dequantize, not both.');
  });
});
