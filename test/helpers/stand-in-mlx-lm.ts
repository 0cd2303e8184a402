// What the stand-in mlx_lm's contract tests share: the tiny models and eval data in test_data, py/mlx/generate runners
// with a clean environment, and an adapter trained once per file (made before its tests, removed after).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa } from 'execa';
import { afterAll, beforeAll, expect } from 'vitest';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const MODELS = fileURLToPath(new URL('../../test_data/models', import.meta.url));
export const EVAL_DATA = fileURLToPath(new URL('../../test_data/sft-eval', import.meta.url));
export const LLAMA_4BIT = path.join(MODELS, 'llama-tiny-4bit');
export const LLAMA = path.join(MODELS, 'llama-tiny');
export const QWEN_4BIT = path.join(MODELS, 'qwen2-tiny-4bit');

export interface PyRun {
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

export interface StandInMlxLm {
  /** The file's temporary folder: the working directory and the parent of every output. */
  readonly tmp: string;
  /** A LoRA adapter of llama-tiny-4bit trained on the eval data (4 iterations, not fused). */
  readonly adapters: string;
  /** `python3 args` in tmp, with no MLX_* variable of this environment. */
  py: (args: string[], env?: Record<string, string>) => Promise<PyRun>;
  /** `python -m mlx_lm cmd args`. */
  mlx: (cmd: string, args: string[], env?: Record<string, string>) => Promise<PyRun>;
  /** `mlx_lm generate` at temperature 0, 64 tokens at most; expects exit 0 and returns stdout. */
  generate: (model: string, prompt: string, extra?: string[]) => Promise<string>;
}

/** Registers the hooks that train the adapter before the file's tests and remove the folder after. */
export function useStandInMlxLm(): StandInMlxLm {
  let tmp = '';
  let adapters = '';

  const py: StandInMlxLm['py'] = async (args, env = {}) => {
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
  };

  const mlx: StandInMlxLm['mlx'] = (cmd, args, env) => py(['-m', 'mlx_lm', cmd, ...args], env);

  const generate: StandInMlxLm['generate'] = async (model, prompt, extra = []) => {
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
  };

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

  return {
    get tmp() {
      return tmp;
    },
    get adapters() {
      return adapters;
    },
    py,
    mlx,
    generate,
  };
}
