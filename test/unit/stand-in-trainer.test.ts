// Contract tests for the stand-in mlx_lm_lora package in test/fixtures (the real tool only runs on Apple silicon).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
// eslint-disable-next-line no-control-regex -- stripping the raw ANSI colour codes upstream prints
const ANSI = /\x1b\[[0-9;]*m/g;

interface Run {
  exitCode: number | undefined;
  stdout: string;
  rawStdout: string;
  stderr: string;
  timedOut: boolean;
}

let tmp: string;

function baseEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('MLX_STANDIN_')) env[k] = v;
  }
  return {
    ...env,
    PYTHONPATH: FIXTURES,
    PYTHONUNBUFFERED: '1',
    PYTHONIOENCODING: 'utf-8',
    PYTHONDONTWRITEBYTECODE: '1',
    ...extra,
  };
}

async function trainer(
  args: string[],
  opts: { env?: Record<string, string>; timeout?: number; module?: string[] } = {},
): Promise<Run> {
  const r = await execa('python3', [...(opts.module ?? ['-m', 'mlx_lm_lora.train']), ...args], {
    cwd: tmp,
    env: baseEnv(opts.env ?? {}),
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: opts.timeout ?? 20_000,
    stripFinalNewline: false,
  });
  return {
    exitCode: r.exitCode,
    stdout: r.stdout.replace(ANSI, ''),
    rawStdout: r.stdout,
    stderr: r.stderr,
    timedOut: r.timedOut,
  };
}

function writeJsonl(dir: string, split: string, rows: unknown[]): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${split}.jsonl`), rows.map((r) => JSON.stringify(r) + '\n').join(''));
}

function lines(text: string): string[] {
  return text.split('\n');
}

const N = String.raw`-?(?:\d+(?:\.\d+)?(?:e[+-]\d+)?|nan|inf)`;
const SFT_LINE = new RegExp(
  `^Iter (\\d+): loss (${N}), lr (${N}), it/s (${N}), tok/s (${N}), trained_tok (${N}), peak_mem (${N})GB$`,
);
const VAL_LINE = new RegExp(`^Iter (\\d+): Val loss (${N})(?:, .*?)?, Val took (${N})s$`);
const PREF_LINE = new RegExp(
  `^Iter (\\d+): loss (${N}), chosen_r (${N}), rejected_r (${N}), acc (${N}), margin (${N}), lr (${N}), it/s (${N}), tok/s (${N}), peak_mem (${N})GB$`,
);

let sftDir: string;
let grpoDir: string;
let dpoDir: string;
let tinyDir: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlx-standin-'));
  sftDir = path.join(tmp, 'sft');
  const sft = Array.from({ length: 12 }, (_, i) => ({
    prompt: `What is ${i} + ${i}?`,
    completion: `It is ${2 * i}.`,
  }));
  writeJsonl(sftDir, 'train', sft);
  writeJsonl(sftDir, 'valid', sft.slice(0, 4));
  writeJsonl(sftDir, 'test', sft.slice(4, 8));

  grpoDir = path.join(tmp, 'grpo');
  const grpo = Array.from({ length: 8 }, (_, i) => ({ prompt: `Compute ${i} * 3`, answer: String(3 * i) }));
  writeJsonl(grpoDir, 'train', grpo);
  writeJsonl(grpoDir, 'valid', grpo.slice(0, 4));

  dpoDir = path.join(tmp, 'dpo');
  writeJsonl(dpoDir, 'train', [
    { prompt: 'Explain yeast.', chosen: 'Yeast is a fungus that ferments sugar.', rejected: 'No idea.' },
    { prompt: 'Explain salt.', chosen: 'Salt seasons and tightens gluten.', rejected: 'It is white.' },
  ]);

  tinyDir = path.join(tmp, 'tiny');
  writeJsonl(tinyDir, 'train', [
    { prompt: 'a', completion: 'b' },
    { prompt: 'c', completion: 'd' },
  ]);
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

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
    const neither = await trainer(['--data', sftDir, '--iters', '2']);
    expect(neither.exitCode).toBe(1);
    expect(neither.stderr).toContain('ValueError: Must provide at least one of --train or --test');

    const noIters = await trainer(['--train', '--data', sftDir, '--adapter-path', path.join(tmp, 'noiters')]);
    expect(noIters.exitCode).toBe(1);
    expect(noIters.stderr).toContain("TypeError: unsupported operand type(s) for +: 'NoneType' and 'int'");
  });
});

describe('stand-in mlx_lm_lora.train: option resolution', () => {
  it('applies YAML only where the CLI value is still None (group_size from YAML is ignored)', async () => {
    const seen = path.join(tmp, 'seen-completions.txt');
    const rewards = path.join(tmp, 'count_rewards.py');
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
    const cfg = path.join(tmp, 'grpo.yaml');
    fs.writeFileSync(cfg, 'group_size: 8\nlearning_rate: 2e-5\nfuse: false\n');
    const out = path.join(tmp, 'yaml-grpo');
    const r = await trainer([
      '--train',
      '--train-mode',
      'grpo',
      '--data',
      grpoDir,
      '--iters',
      '2',
      '--batch-size',
      '2',
      '--adapter-path',
      out,
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
    const cfg = path.join(tmp, 'nofuse.yaml');
    fs.writeFileSync(cfg, 'fuse: false\n');
    const out = path.join(tmp, 'nofuse');
    const r = await trainer(['--train', '--data', sftDir, '--iters', '3', '--adapter-path', out, '-c', cfg]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('Fusing Model');
    expect(fs.existsSync(path.join(out, 'adapters.safetensors'))).toBe(true);
    expect(fs.existsSync(path.join(out, 'model.safetensors'))).toBe(false);
    expect(fs.existsSync(path.join(out, 'config.json'))).toBe(false);
  });
});

describe('stand-in mlx_lm_lora.train: successful runs', () => {
  // How long such a run takes is the benchmark figure bench/figures/stand-in.ts.
  it('SFT prints the upstream lines, writes checkpoints and fuses by default', async () => {
    const out = path.join(tmp, 'sft-run');
    const r = await trainer([
      '--train',
      '--data',
      sftDir,
      '--iters',
      '20',
      '--steps-per-report',
      '5',
      '--steps-per-eval',
      '10',
      '--save-every',
      '10',
      '--adapter-path',
      out,
      '--seed',
      '7',
    ]);
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
      sftDir,
      '--iters',
      '10',
      '--steps-per-report',
      '5',
      '--learning-rate',
      lr,
      '--adapter-path',
      path.join(tmp, dir),
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
    const out = path.join(tmp, 'grpo-run');
    const r = await trainer([
      '--train',
      '--train-mode',
      'grpo',
      '--data',
      grpoDir,
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
    const out = path.join(tmp, 'main-entry');
    const r = await trainer(['train', '--train', '--data', sftDir, '--iters', '2', '--adapter-path', out], {
      module: ['-m', 'mlx_lm_lora'],
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Saved final weights to ${out}/adapters.safetensors.`);
  });
});

describe('stand-in mlx_lm_lora.train: failure modes', () => {
  it('too few rows: ValueError for sft', async () => {
    const r = await trainer([
      '--train',
      '--data',
      tinyDir,
      '--iters',
      '3',
      '--adapter-path',
      path.join(tmp, 'tiny-sft'),
    ]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      'ValueError: Dataset must have at least batch_size=4 examples but only has 2.',
    );
  });

  it('too few rows: dpo hangs silently (killed after 6 s)', async () => {
    const out = path.join(tmp, 'tiny-dpo');
    const r = await trainer(
      ['--train', '--train-mode', 'dpo', '--data', dpoDir, '--iters', '3', '--adapter-path', out],
      { timeout: 6_000 },
    );
    expect(r.timedOut).toBe(true);
    expect(r.stdout).toContain('[INFO] Training mode: DPO');
    expect(r.stdout).not.toMatch(/^Iter /m);
    expect(r.stderr).not.toContain('Traceback');
    expect(fs.existsSync(path.join(out, 'adapters.safetensors'))).toBe(false);
  });

  it('an unknown reward function exits 0, still fuses, and writes no adapters.safetensors', async () => {
    const out = path.join(tmp, 'bad-reward');
    const r = await trainer([
      '--train',
      '--train-mode',
      'grpo',
      '--data',
      grpoDir,
      '--iters',
      '3',
      '--batch-size',
      '2',
      '--adapter-path',
      out,
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
    const prompts = path.join(tmp, 'prompts');
    writeJsonl(
      prompts,
      'train',
      Array.from({ length: 4 }, (_, i) => ({ prompt: `Question ${i}` })),
    );
    const r = await trainer([
      '--train',
      '--train-mode',
      'online_dpo',
      '--data',
      prompts,
      '--iters',
      '2',
      '--adapter-path',
      path.join(tmp, 'judge'),
    ]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(
      "ValueError: Training mode 'online_dpo' requires a judge model. Set 'judge' in the YAML config or pass --judge.",
    );
  });

  it('preference modes print their own train line', async () => {
    const pref = path.join(tmp, 'pref');
    const rows = Array.from({ length: 8 }, (_, i) => ({
      prompt: `Q${i}`,
      chosen: 'a long and helpful answer',
      rejected: 'no',
    }));
    writeJsonl(pref, 'train', rows);
    const r = await trainer([
      '--train',
      '--train-mode',
      'dpo',
      '--data',
      pref,
      '--iters',
      '4',
      '--steps-per-report',
      '2',
      '--adapter-path',
      path.join(tmp, 'pref-out'),
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(lines(r.stdout).filter((l) => PREF_LINE.test(l)).length).toBe(2);
  });

  it('MLX_STANDIN_CRASH_AT_ITER makes the run crash with exit code 1', async () => {
    const r = await trainer(
      [
        '--train',
        '--data',
        sftDir,
        '--iters',
        '10',
        '--steps-per-report',
        '1',
        '--adapter-path',
        path.join(tmp, 'crash'),
      ],
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
    const out = path.join(tmp, 'exit-after-error');
    const r = await trainer(['--train', '--data', sftDir, '--iters', '3', '--adapter-path', out], {
      env: { MLX_STANDIN_EXIT_AFTER_ERROR: '1' },
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^\[ERROR\] /m);
    expect(fs.existsSync(path.join(out, 'adapters.safetensors'))).toBe(false);
  });

  it('MLX_STANDIN_PID_FILE and MLX_STANDIN_LINES_PER_ITER', async () => {
    const pidFile = path.join(tmp, 'trainer.pid');
    const r = await trainer(
      ['--train', '--data', sftDir, '--iters', '3', '--adapter-path', path.join(tmp, 'knobs')],
      {
        env: { MLX_STANDIN_PID_FILE: pidFile, MLX_STANDIN_LINES_PER_ITER: '4' },
      },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(Number(fs.readFileSync(pidFile, 'utf8'))).toBeGreaterThan(0);
    expect(lines(r.stdout).filter((l) => l.startsWith('[stand-in] iter ')).length).toBe(12);
  });
});
