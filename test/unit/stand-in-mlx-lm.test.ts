// Contract tests for the stand-in mlx_lm package in test/fixtures: parsers, printed lines, files, determinism, knobs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const MODELS = fileURLToPath(new URL('../../test_data/models', import.meta.url));
const EVAL_DATA = fileURLToPath(new URL('../../test_data/sft-eval', import.meta.url));
const LLAMA_4BIT = path.join(MODELS, 'llama-tiny-4bit');
const LLAMA = path.join(MODELS, 'llama-tiny');
const QWEN_4BIT = path.join(MODELS, 'qwen2-tiny-4bit');

let tmp: string;
let adapters: string;

async function py(args: string[], env: Record<string, string> = {}) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && !k.startsWith('MLX_')),
  );
  const r = await execa('python3', args, {
    cwd: tmp,
    env: { ...clean, PYTHONPATH: FIXTURES, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', ...env },
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: 20_000,
  });
  return { exitCode: r.exitCode, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const mlx = (cmd: string, args: string[], env?: Record<string, string>) =>
  py(['-m', 'mlx_lm', cmd, ...args], env);

async function generate(model: string, prompt: string, extra: string[] = []) {
  const r = await mlx('generate', [
    '--model',
    model,
    '--prompt',
    prompt,
    '--max-tokens',
    '64',
    '--temp',
    '0',
    ...extra,
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-lm-standin-'));
  adapters = path.join(tmp, 'adapters');
  const noFuse = path.join(tmp, 'no-fuse.yaml');
  fs.writeFileSync(noFuse, 'fuse: false\n');
  const r = await py([
    '-m',
    'mlx_lm_lora.train',
    '--train',
    '--model',
    LLAMA_4BIT,
    '--data',
    path.join(EVAL_DATA),
    '--iters',
    '4',
    '--batch-size',
    '2',
    '--adapter-path',
    adapters,
    '-c',
    noFuse,
  ]);
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
}, 60_000);

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('stand-in mlx_lm: entry points', { timeout: 60_000 }, () => {
  it('prints the bare version and names its subcommands', async () => {
    expect((await py(['-m', 'mlx_lm', '--version'])).stdout.trim()).toBe('0.32.0');
    expect(
      (await py(['-m', 'mlx_lm', '--version'], { MLX_LM_STANDIN_VERSION: '0.31.3' })).stdout.trim(),
    ).toBe('0.31.3');
    const none = await py(['-m', 'mlx_lm']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain('ValueError: CLI requires a subcommand in');
  });

  it('rejects unknown flags with argparse usage and exit 2; the fuse banner comes first', async () => {
    const r = await mlx('fuse', ['--hf-path', 'x']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('Loading pretrained model');
    expect(r.stderr).toMatch(/^usage: /);
    expect(r.stderr).toContain('error: unrecognized arguments: --hf-path x');
  });

  it('the deprecated module form prints its line first', async () => {
    const r = await py(['-m', 'mlx_lm.generate', '--model', LLAMA, '--prompt', 'hi']);
    expect(r.stdout.split('\n')[0]).toBe(
      'Calling `python -m mlx_lm.generate...` directly is deprecated. Use `mlx_lm.generate...` or `python -m mlx_lm generate ...` instead.',
    );
  });

  it('fuse and lora have no --trust-remote-code at 0.31.3', async () => {
    const r = await mlx('fuse', ['--trust-remote-code'], { MLX_LM_STANDIN_VERSION: '0.31.3' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('unrecognized arguments: --trust-remote-code');
  });
});

describe('stand-in mlx_lm generate', { timeout: 60_000 }, () => {
  it('prints the verbose format and is deterministic from model, adapter and prompt', async () => {
    const a = await generate(LLAMA_4BIT, 'Do you make sandwiches?');
    expect(a).toMatch(
      /^==========\n.+\n==========\nPrompt: \d+ tokens, [\d.]+ tokens-per-sec\nGeneration: \d+ tokens, [\d.]+ tokens-per-sec\nPeak memory: [\d.]+ GB$/,
    );
    expect(await generate(LLAMA_4BIT, 'Do you make sandwiches?')).toBe(a);
    const withAdapter = await generate(LLAMA_4BIT, 'Do you make sandwiches?', ['--adapter-path', adapters]);
    expect(withAdapter.split('\n')[1]).not.toBe(a.split('\n')[1]);
    expect((await generate(LLAMA_4BIT, 'Another prompt')).split('\n')[1]).not.toBe(a.split('\n')[1]);
  });

  it('stops at --max-tokens, and --verbose F prints only the text', async () => {
    const r = await mlx('generate', ['--model', LLAMA, '--prompt', 'hi', '-m', '3']);
    expect(r.stdout).toContain('Generation: 3 tokens');
    const quiet = await mlx('generate', ['--model', LLAMA, '--prompt', 'hi', '--verbose', 'F']);
    expect(quiet.stdout.split('\n')).toHaveLength(1);
  });

  it('a missing model folder is a repo id it cannot download', async () => {
    const r = await mlx('generate', ['--model', 'nobody/nothing']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('RepositoryNotFoundError');
  });

  it('aborts with the Metal out-of-memory line under the knob', async () => {
    const r = await mlx('generate', ['--model', LLAMA], { MLX_LM_STANDIN_METAL_OOM: 'generate' });
    expect(r.signal).toBe('SIGABRT');
    expect(r.stderr).toContain(
      '[METAL] Command buffer execution failed: Insufficient Memory (00000008:kIOGPUCommandBufferCallbackErrorOutOfMemory)',
    );
  });
});

describe('stand-in mlx_lm fuse', { timeout: 60_000 }, () => {
  it('with --dequantize reproduces base plus adapter and drops the quantization', async () => {
    const out = path.join(tmp, 'fused-deq');
    const r = await mlx('fuse', [
      '--model',
      LLAMA_4BIT,
      '--adapter-path',
      adapters,
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
      (await generate(LLAMA_4BIT, 'Do you make sandwiches?', ['--adapter-path', adapters])).split('\n')[1],
    );
  });

  it('into a quantized base without --dequantize loses the adapter (answers like the base)', async () => {
    const out = path.join(tmp, 'fused-q');
    expect(
      (
        await mlx('fuse', ['--model', LLAMA_4BIT, '--adapter-path', adapters, '--save-path', out])
      ).stdout.trim(),
    ).toBe('Loading pretrained model');
    expect((await generate(out, 'hello')).split('\n')[1]).toBe(
      (await generate(LLAMA_4BIT, 'hello')).split('\n')[1],
    );
  });

  it('loses the adapter even with --dequantize under the lossy knob', async () => {
    const out = path.join(tmp, 'fused-lossy');
    await mlx(
      'fuse',
      ['--model', LLAMA_4BIT, '--adapter-path', adapters, '--save-path', out, '--dequantize'],
      { MLX_LM_STANDIN_LOSSY_FUSE: '1' },
    );
    expect((await generate(out, 'hello')).split('\n')[1]).toBe(
      (await generate(LLAMA_4BIT, 'hello')).split('\n')[1],
    );
  });

  it('a stale shard in a reused save path changes the fused model', async () => {
    const out = path.join(tmp, 'fused-stale');
    await mlx('fuse', ['--model', LLAMA, '--adapter-path', adapters, '--save-path', out]);
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
      adapters,
      '--save-path',
      path.join(tmp, 'g1'),
      '--dequantize',
      '--export-gguf',
    ]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toContain(
      `Converting to GGUF format\nConverted GGUF model saved as: ${path.join(tmp, 'g1', 'ggml-model-f16.gguf')}`,
    );
    expect(
      fs
        .readFileSync(path.join(tmp, 'g1', 'ggml-model-f16.gguf'))
        .subarray(0, 4)
        .toString(),
    ).toBe('GGUF');
    const qwen = await mlx('fuse', [
      '--model',
      QWEN_4BIT,
      '--adapter-path',
      adapters,
      '--save-path',
      path.join(tmp, 'g2'),
      '--dequantize',
      '--export-gguf',
    ]);
    expect(qwen.exitCode).toBe(1);
    expect(qwen.stderr).toContain('ValueError: Model type qwen2 not supported for GGUF conversion.');
    expect(fs.existsSync(path.join(tmp, 'g2', 'model.safetensors'))).toBe(true);
    const quant = await mlx('fuse', [
      '--model',
      LLAMA_4BIT,
      '--adapter-path',
      adapters,
      '--save-path',
      path.join(tmp, 'g3'),
      '--export-gguf',
    ]);
    expect(quant.stderr).toContain(
      'NotImplementedError: Conversion of quantized models is not yet supported.',
    );
    const old = await mlx(
      'fuse',
      ['--model', LLAMA, '--adapter-path', adapters, '--save-path', path.join(tmp, 'g4'), '--export-gguf'],
      { MLX_LM_STANDIN_VERSION: '0.31.3' },
    );
    expect(old.stderr).toContain('ValueError: [save_gguf] can only serialize row-major arrays');
  });
});

describe('stand-in mlx_lm lora --test and convert', { timeout: 60_000 }, () => {
  it('prints the test report; the fused folder with --adapter-path "" matches base plus adapter', async () => {
    const r = await mlx('lora', [
      '--model',
      LLAMA_4BIT,
      '--adapter-path',
      adapters,
      '--data',
      EVAL_DATA,
      '--test',
      '--batch-size',
      '1',
      '--test-batches',
      '-1',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^Loading pretrained model\nLoading datasets\nTesting\nTest loss \d+\.\d{3}, Test ppl \d+\.\d{3}\.$/,
    );
    expect(r.stderr).toContain('Calculating loss...');
    const fused = path.join(tmp, 'fused-eval');
    await mlx('fuse', [
      '--model',
      LLAMA_4BIT,
      '--adapter-path',
      adapters,
      '--save-path',
      fused,
      '--dequantize',
    ]);
    const f = await mlx('lora', [
      '--model',
      fused,
      '--adapter-path',
      '',
      '--data',
      EVAL_DATA,
      '--test',
      '--batch-size',
      '1',
      '--test-batches',
      '-1',
    ]);
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
    const out = path.join(tmp, 'q4');
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
    const both = await mlx('convert', ['--model', LLAMA, '--mlx-path', path.join(tmp, 'qd'), '-q', '-d']);
    expect(both.stderr).toContain('ValueError: Choose either quantize or dequantize, not both.');
  });
});
