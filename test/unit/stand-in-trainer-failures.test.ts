// Contract tests for the stand-in mlx_lm_lora.train in test/fixtures (the real tool only runs on Apple silicon):
// upstream's failure modes (too few rows, unknown reward functions, judge modes) and the MLX_STANDIN_* knobs.
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { lines, PREF_LINE, trainArgs, useStandInTrainer, writeJsonl } from '../helpers/stand-in-trainer.js';

const s = useStandInTrainer();
const { trainer } = s;

describe('stand-in mlx_lm_lora.train: failure modes', () => {
  it('too few rows: ValueError for sft', async () => {
    const r = await trainer(trainArgs(s.tinyDir, path.join(s.tmp, 'tiny-sft'), 3));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      'ValueError: Dataset must have at least batch_size=4 examples but only has 2.',
    );
  });

  it('too few rows: dpo hangs silently (killed after 6 s)', async () => {
    const out = path.join(s.tmp, 'tiny-dpo');
    const r = await trainer(trainArgs(s.dpoDir, out, 3, 'dpo'), { timeout: 6_000 });
    expect(r.timedOut).toBe(true);
    expect(r.stdout).toContain('[INFO] Training mode: DPO');
    expect(r.stdout).not.toMatch(/^Iter /m);
    expect(r.stderr).not.toContain('Traceback');
    expect(fs.existsSync(path.join(out, 'adapters.safetensors'))).toBe(false);
  });

  it('an unknown reward function exits 0, still fuses, and writes no adapters.safetensors', async () => {
    const out = path.join(s.tmp, 'bad-reward');
    const r = await trainer([
      ...trainArgs(s.grpoDir, out, 3, 'grpo'),
      '--batch-size',
      '2',
      '--reward-functions',
      'accuracy_reward',
    ]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain(`[ERROR] Error: "Reward function 'accuracy_reward' not found.`);
    expect(r.stdout).toContain(
      "[INFO] Available reward functions: ['r1_int_reward_func', 'r1_accuracy_reward_func', 'r1_soft_format_reward_func', 'r1_strict_format_reward_func', 'r1_count_xml']",
    );
    expect(r.stdout).not.toContain('Saved final weights');
    expect(r.stdout).toContain(`[SUCCESS] Model fused and saved to ${out}`);
    expect(fs.existsSync(path.join(out, 'adapters.safetensors'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'model.safetensors'))).toBe(true);
  });

  it('judge modes need --judge', async () => {
    const prompts = path.join(s.tmp, 'prompts');
    writeJsonl(
      prompts,
      'train',
      Array.from({ length: 4 }, (_, i) => ({ prompt: `Question ${i}` })),
    );
    const r = await trainer(trainArgs(prompts, path.join(s.tmp, 'judge'), 2, 'online_dpo'));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      "ValueError: Training mode 'online_dpo' requires a judge model. Set 'judge' in the YAML config or pass --judge.",
    );
  });

  it('preference modes print their own train line', async () => {
    const pref = path.join(s.tmp, 'pref');
    const rows = Array.from({ length: 8 }, (_, i) => ({
      prompt: `Q${i}`,
      chosen: 'a long and helpful answer',
      rejected: 'no',
    }));
    writeJsonl(pref, 'train', rows);
    const r = await trainer([
      ...trainArgs(pref, path.join(s.tmp, 'pref-out'), 4, 'dpo'),
      '--steps-per-report',
      '2',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(lines(r.stdout).filter((l) => PREF_LINE.test(l)).length).toBe(2);
  });

  it('MLX_STANDIN_CRASH_AT_ITER makes the run crash with exit code 1', async () => {
    const r = await trainer(
      [...trainArgs(s.sftDir, path.join(s.tmp, 'crash'), 10), '--steps-per-report', '1'],
      {
        env: { MLX_STANDIN_CRASH_AT_ITER: '3' },
      },
    );
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('Traceback (most recent call last):');
    expect(r.stderr).toMatch(/^RuntimeError: /m);
    expect(r.stdout).toMatch(/^Iter 2: loss /m);
    expect(r.stdout).not.toMatch(/^Iter 3: loss /m);
  });

  it('MLX_STANDIN_EXIT_AFTER_ERROR exits 0 after an [ERROR] line without adapters', async () => {
    const out = path.join(s.tmp, 'exit-after-error');
    const r = await trainer(trainArgs(s.sftDir, out, 3), {
      env: { MLX_STANDIN_EXIT_AFTER_ERROR: '1' },
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\[ERROR\] /m);
    expect(fs.existsSync(path.join(out, 'adapters.safetensors'))).toBe(false);
  });

  it('MLX_STANDIN_PID_FILE and MLX_STANDIN_LINES_PER_ITER', async () => {
    const pidFile = path.join(s.tmp, 'trainer.pid');
    const r = await trainer(trainArgs(s.sftDir, path.join(s.tmp, 'knobs'), 3), {
      env: { MLX_STANDIN_PID_FILE: pidFile, MLX_STANDIN_LINES_PER_ITER: '4' },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(Number(fs.readFileSync(pidFile, 'utf8'))).toBeGreaterThan(0);
    expect(lines(r.stdout).filter((l) => l.startsWith('[stand-in] iter ')).length).toBe(12);
  });
});
