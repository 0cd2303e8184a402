// Contract tests for the stand-in mlx_lm package in test/fixtures: its entry points (version, subcommands, argparse,
// the deprecated module form) and generate (printed format, determinism, limits, a missing model, Metal OOM).
import { describe, expect, it } from 'vitest';

import { LLAMA, LLAMA_4BIT, useStandInMlxLm } from '../helpers/stand-in-mlx-lm.js';

const m = useStandInMlxLm();
const { generate, mlx, py } = m;

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
    const withAdapter = await generate(LLAMA_4BIT, 'Do you make sandwiches?', ['--adapter-path', m.adapters]);
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
