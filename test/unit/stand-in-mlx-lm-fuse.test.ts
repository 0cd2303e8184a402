// Contract tests for the stand-in mlx_lm package in test/fixtures: fuse with and without --dequantize, the lossy
// knob, stale shards in a reused save path, and GGUF export.
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { LLAMA, LLAMA_4BIT, QWEN_4BIT, useStandInMlxLm } from '../helpers/stand-in-mlx-lm.js';

const m = useStandInMlxLm();
const { generate, mlx } = m;

describe('stand-in mlx_lm fuse', { timeout: 60_000 }, () => {
  it('with --dequantize reproduces base plus adapter and drops the quantization', async () => {
    const out = path.join(m.tmp, 'fused-deq');
    const r = await mlx('fuse', [
      '--model',
      LLAMA_4BIT,
      '--adapter-path',
      m.adapters,
      '--save-path',
      out,
      '--dequantize',
    ]);
    expect(r.stdout.trim().split('\n')).toEqual(['Loading pretrained model', 'Dequantizing model']);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(config.quantization).toBeUndefined();
    for (const f of [
      'model.safetensors',
      'model.safetensors.index.json',
      'tokenizer.json',
      'generation_config.json',
      'README.md',
    ])
      expect(fs.existsSync(path.join(out, f))).toBe(true);
    expect(await generate(out, 'Do you make sandwiches?')).toContain(
      (await generate(LLAMA_4BIT, 'Do you make sandwiches?', ['--adapter-path', m.adapters])).split('\n')[1],
    );
  });

  it('into a quantized base without --dequantize loses the adapter (answers like the base)', async () => {
    const out = path.join(m.tmp, 'fused-q');
    expect(
      (
        await mlx('fuse', ['--model', LLAMA_4BIT, '--adapter-path', m.adapters, '--save-path', out])
      ).stdout.trim(),
    ).toBe('Loading pretrained model');
    expect((await generate(out, 'hello')).split('\n')[1]).toBe(
      (await generate(LLAMA_4BIT, 'hello')).split('\n')[1],
    );
  });

  it('loses the adapter even with --dequantize under the lossy knob', async () => {
    const out = path.join(m.tmp, 'fused-lossy');
    await mlx(
      'fuse',
      ['--model', LLAMA_4BIT, '--adapter-path', m.adapters, '--save-path', out, '--dequantize'],
      { MLX_LM_STANDIN_LOSSY_FUSE: '1' },
    );
    expect((await generate(out, 'hello')).split('\n')[1]).toBe(
      (await generate(LLAMA_4BIT, 'hello')).split('\n')[1],
    );
  });

  it('a stale shard in a reused save path changes the fused model', async () => {
    const out = path.join(m.tmp, 'fused-stale');
    await mlx('fuse', ['--model', LLAMA, '--adapter-path', m.adapters, '--save-path', out]);
    const clean = await generate(out, 'hello');
    fs.copyFileSync(
      path.join(LLAMA, 'model.safetensors'),
      path.join(out, 'model-00002-of-00002.safetensors'),
    );
    expect(await generate(out, 'hello')).not.toBe(clean);
  });

  it('exports GGUF for llama only, not for quantized configs, not on the broken versions', async () => {
    const ok = await mlx('fuse', [
      '--model',
      LLAMA_4BIT,
      '--adapter-path',
      m.adapters,
      '--save-path',
      path.join(m.tmp, 'g1'),
      '--dequantize',
      '--export-gguf',
    ]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(
      `Converting to GGUF format\nConverted GGUF model saved as: ${path.join(m.tmp, 'g1', 'ggml-model-f16.gguf')}`,
    );
    expect(
      fs
        .readFileSync(path.join(m.tmp, 'g1', 'ggml-model-f16.gguf'))
        .subarray(0, 4)
        .toString(),
    ).toBe('GGUF');
    const qwen = await mlx('fuse', [
      '--model',
      QWEN_4BIT,
      '--adapter-path',
      m.adapters,
      '--save-path',
      path.join(m.tmp, 'g2'),
      '--dequantize',
      '--export-gguf',
    ]);
    expect(qwen.exitCode).toBe(1);
    expect(qwen.stderr).toContain('ValueError: Model type qwen2 not supported for GGUF conversion.');
    expect(fs.existsSync(path.join(m.tmp, 'g2', 'model.safetensors'))).toBe(true);
    const quant = await mlx('fuse', [
      '--model',
      LLAMA_4BIT,
      '--adapter-path',
      m.adapters,
      '--save-path',
      path.join(m.tmp, 'g3'),
      '--export-gguf',
    ]);
    expect(quant.stderr).toContain(
      'NotImplementedError: Conversion of quantized models is not yet supported.',
    );
    const old = await mlx(
      'fuse',
      [
        '--model',
        LLAMA,
        '--adapter-path',
        m.adapters,
        '--save-path',
        path.join(m.tmp, 'g4'),
        '--export-gguf',
      ],
      { MLX_LM_STANDIN_VERSION: '0.31.3' },
    );
    expect(old.stderr).toContain('ValueError: [save_gguf] can only serialize row-major arrays');
  });
});
