// Contract tests for the stand-in mlx_lm_lora.train in test/fixtures (the real tool only runs on Apple silicon):
// successful SFT and GRPO runs print upstream's lines, write checkpoints and fuse; seeds make them deterministic.
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { sftRunArgs } from '../helpers/stand-in-sft-run.js';
import { lines, N, SFT_LINE, useStandInTrainer, VAL_LINE } from '../helpers/stand-in-trainer.js';

const s = useStandInTrainer();
const { trainer } = s;

describe('stand-in mlx_lm_lora.train: successful runs', () => {
  // How long such a run takes is the benchmark figure bench/figures/stand-in.ts.
  it('SFT prints the upstream lines, writes checkpoints and fuses by default', async () => {
    const out = path.join(s.tmp, 'sft-run');
    const r = await trainer(sftRunArgs(s.sftDir, out));
    expect(r.exitCode, r.stderr).toBe(0);
    const out_ = lines(r.stdout);
    expect(out_).toContain('Training Mode: SFT');
    expect(out_).toContain('[INFO] Loading datasets');
    expect(out_).toContain('[INFO] Training mode: SFT');
    expect(out_.some((l) => /^Trainable parameters: \d+\.\d{3}% \(\d+\.\d{3}M\/\d+\.\d{3}M\)$/.test(l))).toBe(
      true,
    );

    const train = out_.map((l) => SFT_LINE.exec(l)).filter((m) => m !== null);
    expect(train.map((m) => Number(m[1]))).toEqual([5, 10, 15, 20]);
    const losses = train.map((m) => Number(m[2]));
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    expect(train[0]![3]).toBe('1.000e-05');
    // An empty line precedes every SFT train line.
    const idx = out_.findIndex((l) => l.startsWith('Iter 5: loss'));
    expect(out_[idx - 1]).toBe('');

    const val = out_.map((l) => VAL_LINE.exec(l)).filter((m) => m !== null);
    expect(val.map((m) => Number(m[1]))).toEqual([1, 10, 20]);

    expect(out_).toContain(
      `Iter 10: Saved adapter weights to ${out}/adapters.safetensors and ${out}/0000010_adapters.safetensors.`,
    );
    expect(out_).toContain(`Saved final weights to ${out}/adapters.safetensors.`);
    expect(out_.map((l) => l.trim())).toContain('Fusing Model');
    expect(out_).toContain(`Created README.md in ${out}`);
    expect(out_).toContain(`[SUCCESS] Model fused and saved to ${out}`);

    for (const f of [
      'adapter_config.json',
      'adapters.safetensors',
      '0000010_adapters.safetensors',
      '0000020_adapters.safetensors',
      'model.safetensors',
      'config.json',
      'README.md',
    ]) {
      expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    }
    const adapterConfig = JSON.parse(fs.readFileSync(path.join(out, 'adapter_config.json'), 'utf8'));
    expect(adapterConfig).toEqual({
      lora_parameters: { rank: 8, dropout: 0.0, scale: 10.0, use_dora: false, num_layers: -1 },
      num_layers: -1,
    });

    // Progress bar: tqdm-like '\r' updates on stderr, ending at 100 %.
    expect(r.stderr).toContain('\rTraining:   0%|');
    expect(r.stderr).toMatch(/Training: 100%\|██████████\| 20\/20 \[/);
    // Colours: raw ANSI codes on [INFO] lines, none on metric lines.
    expect(r.rawStdout).toContain('\x1b[94m[INFO]\x1b[0m Loading datasets');
    expect(r.rawStdout).toMatch(/^Iter 5: loss /m);
  });

  it('is deterministic for a seed and reacts to the learning rate', async () => {
    const args = (lr: string, dir: string) => [
      '--train',
      '--data',
      s.sftDir,
      '--iters',
      '10',
      '--steps-per-report',
      '5',
      '--learning-rate',
      lr,
      '--adapter-path',
      path.join(s.tmp, dir),
    ];
    const loss = (s: string) =>
      lines(s)
        .map((l) => SFT_LINE.exec(l))
        .filter((m) => m !== null)
        .map((m) => m[2]);
    const a = await trainer(args('1e-5', 'det-a'));
    const b = await trainer(args('1e-5', 'det-b'));
    const c = await trainer(args('1e-4', 'det-c'));
    expect(loss(a.stdout)).toEqual(loss(b.stdout));
    expect(Number(loss(c.stdout).at(-1))).toBeLessThan(Number(loss(a.stdout).at(-1)));
  });

  it('GRPO prints the multi-line report block with one line per reward function', async () => {
    const out = path.join(s.tmp, 'grpo-run');
    const r = await trainer([
      '--train',
      '--train-mode',
      'grpo',
      '--data',
      s.grpoDir,
      '--iters',
      '4',
      '--batch-size',
      '2',
      '--steps-per-report',
      '2',
      '--save-every',
      '2',
      '--adapter-path',
      out,
      '--reward-functions',
      'r1_accuracy_reward_func,r1_count_xml',
      '--reward-weights',
      '[0.7,0.3]',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const out_ = lines(r.stdout);
    expect(out_).toContain('Loading pretrained reference model (using main model)');
    expect(out_).toContain('[SUCCESS] Using custom reward functions: r1_accuracy_reward_func, r1_count_xml');
    const start = out_.indexOf('Iter 2:');
    expect(start).toBeGreaterThan(0);
    expect(out_[start - 1]).toBe('='.repeat(80));
    expect(out_[start + 1]).toBe('-'.repeat(80));
    expect(out_[start + 2]).toMatch(new RegExp(`^Loss: ${N}$`));
    expect(out_[start + 3]).toMatch(new RegExp(`^Total Rewards:  μ=${N}, σ=${N}$`));
    expect(out_[start + 4]).toMatch(new RegExp(`^Group Rewards:  μ=${N}, σ=${N}$`));
    expect(out_[start + 5]).toMatch(/^KL Divergence: \d+\.\d{12}$/);
    expect(out_.some((l) => /^ {2}• Max tokens: \d+ \(limit: 512\)$/.test(l))).toBe(true);
    expect(out_.some((l) => /^ {2}• Hit limit: \d+\.\d%$/.test(l))).toBe(true);
    const rewardLines = out_.filter((l) => /^ {2}• (accuracy|count_xml): μ=/.test(l));
    expect(rewardLines.length).toBe(4); // 2 functions x 2 reports
    expect(out_.some((l) => /^Learning Rate: 1\.0000e-05$/.test(l))).toBe(true);
    expect(out_.some((l) => new RegExp(`^Speed: ${N} it/s, ${N} tok/s$`).test(l))).toBe(true);
    expect(out_).toContain(
      `Iter 2: Saved adapter weights to ${out}/adapters.safetensors and ${out}/0000002_adapters.safetensors.`,
    );
    expect(out_).toContain(`Saved final weights to ${out}/adapters.safetensors.`);
    expect(fs.existsSync(path.join(out, '0000004_adapters.safetensors'))).toBe(true);
  });

  it('python -m mlx_lm_lora train is an entry point too', async () => {
    const out = path.join(s.tmp, 'main-entry');
    const r = await trainer(['train', '--train', '--data', s.sftDir, '--iters', '2', '--adapter-path', out], {
      module: ['-m', 'mlx_lm_lora'],
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Saved final weights to ${out}/adapters.safetensors.`);
  });
});
