// Contract tests for the stand-in mlx_lm_lora.train in test/fixtures (the real tool only runs on Apple silicon):
// argparse errors and how CLI, YAML and parser defaults resolve an option.
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { trainArgs, useStandInTrainer } from '../helpers/stand-in-trainer.js';

const s = useStandInTrainer();
const { trainer } = s;

describe('stand-in mlx_lm_lora.train: argparse', () => {
  it('rejects an unknown flag with usage on stderr and exit code 2', async () => {
    const r = await trainer(['--train', '--lora-parameters', '{}']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^usage: /m);
    expect(r.stderr).toContain('error: unrecognized arguments: --lora-parameters');
  });

  it('rejects a bad choice with exit code 2', async () => {
    const r = await trainer(['--train', '--train-mode', 'gspo']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("argument --train-mode: invalid choice: 'gspo'");
  });

  it('requires --train or --test, and --iters or --epochs', async () => {
    const neither = await trainer(['--data', s.sftDir, '--iters', '2']);
    expect(neither.exitCode).toBe(1);
    expect(neither.stderr).toContain('ValueError: Must provide at least one of --train or --test');

    const noIters = await trainer([
      '--train',
      '--data',
      s.sftDir,
      '--adapter-path',
      path.join(s.tmp, 'noiters'),
    ]);
    expect(noIters.exitCode).toBe(1);
    expect(noIters.stderr).toContain("TypeError: unsupported operand type(s) for +: 'NoneType' and 'int'");
  });
});

describe('stand-in mlx_lm_lora.train: option resolution', () => {
  it('applies YAML only where the CLI value is still None (group_size from YAML is ignored)', async () => {
    const seen = path.join(s.tmp, 'seen-completions.txt');
    const rewards = path.join(s.tmp, 'count_rewards.py');
    fs.writeFileSync(
      rewards,
      [
        'from mlx_lm_lora.trainer.grpo_reward_functions import register_reward_function',
        '',
        '@register_reward_function()',
        'def count_completions(prompts, completions, answer, types=None):',
        `    with open(${JSON.stringify(seen)}, "a") as f:`,
        '        f.write(f"{len(completions)}\\n")',
        '    return [0.0 for _ in completions]',
        '',
      ].join('\n'),
    );
    const cfg = path.join(s.tmp, 'grpo.yaml');
    fs.writeFileSync(cfg, 'group_size: 8\nlearning_rate: 2e-5\nfuse: false\n');
    const out = path.join(s.tmp, 'yaml-grpo');
    const r = await trainer([
      ...trainArgs(s.grpoDir, out, 2, 'grpo'),
      '--batch-size',
      '2',
      '-c',
      cfg,
      '--reward-functions-file',
      rewards,
      '--reward-functions',
      'count_completions',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    // learning_rate has parser default None, so YAML applies (and 2e-5 is read as a float).
    expect(r.stdout).toContain('Learning Rate: 2e-05');
    // group_size has parser default 4, so the YAML 8 is silently ignored: 2 prompts x 4 completions.
    const counts = fs.readFileSync(seen, 'utf8').trim().split('\n').map(Number);
    expect(counts.length).toBeGreaterThan(0);
    expect(new Set(counts)).toEqual(new Set([8]));
    expect(r.stdout).toContain('[SUCCESS] Using custom reward functions: count_completions');
    expect(r.stdout).toContain('  • count_completions: μ=0.000, σ=0.000, cov=100.00%');
  });

  it('YAML fuse: false means no fused model files and no Fusing section', async () => {
    const cfg = path.join(s.tmp, 'nofuse.yaml');
    fs.writeFileSync(cfg, 'fuse: false\n');
    const out = path.join(s.tmp, 'nofuse');
    const r = await trainer([...trainArgs(s.sftDir, out, 3), '-c', cfg]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('Fusing Model');
    expect(fs.existsSync(path.join(out, 'adapters.safetensors'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'model.safetensors'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'config.json'))).toBe(false);
  });
});
