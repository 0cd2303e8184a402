// Parsing mlx-lm-lora output into metric points: one fixture per print format, blocks, tqdm and fuzz (its speed is
// the benchmark figure bench/figures/output-parser.ts).
import { readFileSync } from 'node:fs';

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import {
  createTrainerOutputParser,
  type MetricSplit,
  stripAnsi,
  type TrainerEvent,
} from '../../src/domain/trainer-output.js';

function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/output/${name}`, import.meta.url), 'utf8');
}

/** What the worker does: split stdout/stderr on \n and \r, push every piece, then end(). */
function parseAll(text: string): TrainerEvent[] {
  const parser = createTrainerOutputParser();
  const events = text.split(/\r|\n/).flatMap((line) => parser.push(line));
  return [...events, ...parser.end()];
}

function metrics(iteration: number, split: MetricSplit, values: Record<string, number>): TrainerEvent {
  const points = Object.entries(values).map(([name, value]) => ({ iteration, split, name, value }));
  return { kind: 'metrics', iteration, split, points };
}

const progress = (iteration: number, total: number | null): TrainerEvent => ({
  kind: 'progress',
  iteration,
  total,
});
const checkpoint = (iteration: number): TrainerEvent => ({
  kind: 'checkpoint',
  iteration,
  adapterFile: 'adapters/adapters.safetensors',
  checkpointFile: `adapters/${String(iteration).padStart(7, '0')}_adapters.safetensors`,
});
const final: TrainerEvent = { kind: 'final', adapterFile: 'adapters/adapters.safetensors' };
const fused: TrainerEvent = { kind: 'fused', path: 'adapters' };

const GRPO_BLOCK_10 = metrics(10, 'train', {
  loss: 0.012,
  total_rewards_mean: 1.25,
  total_rewards_std: 0.5,
  group_rewards_mean: 1.25,
  group_rewards_std: 0.375,
  kl: 0.000123,
  avg_tokens: 200.2,
  min_tokens: 50,
  max_tokens: 512,
  hit_limit_ratio: 0.25,
  'reward/accuracy/mean': 1,
  'reward/accuracy/std': 0.875,
  'reward/accuracy/coverage': 0.5,
  'reward/int/mean': 0.5,
  'reward/int/std': 0,
  'reward/int/coverage': 1,
  'reward/my_len_bonus/mean': NaN,
  'reward/my_len_bonus/std': NaN,
  'reward/my_len_bonus/coverage': 0,
  clip_low: 0,
  clip_high: 0.013,
  clip_total: 0.013,
  learning_rate: 1e-5,
  it_per_sec: 0.812,
  tokens_per_sec: 512.2,
  peak_memory_gb: 12.346,
});

const cases: Array<{ format: string; file: string; expected: TrainerEvent[] }> = [
  {
    format: 'SFT train/val/checkpoint/final/fused with ANSI start-up, nan and inf',
    file: 'sft.txt',
    expected: [
      { kind: 'total_iterations', total: 200 },
      metrics(1, 'val', { loss: 2.346, time_s: 12.346 }),
      metrics(10, 'train', {
        loss: 1.235,
        learning_rate: 1e-5,
        it_per_sec: 0.812,
        tokens_per_sec: 512.25,
        trained_tokens: 5120,
        peak_memory_gb: 12.346,
      }),
      progress(10, 200),
      metrics(20, 'train', {
        loss: NaN,
        learning_rate: 2.5e-6,
        it_per_sec: 0.812,
        tokens_per_sec: 512.25,
        trained_tokens: 10240,
        peak_memory_gb: Infinity,
      }),
      progress(20, 200),
      checkpoint(20),
      final,
      fused,
    ],
  },
  {
    format: 'DPO/CPO/ORPO train and DPO-family validation',
    file: 'dpo.txt',
    expected: [
      metrics(1, 'val', {
        loss: 0.693,
        chosen_reward: 0,
        rejected_reward: -0,
        accuracy: 0.5,
        margin: 0,
        time_s: 3.21,
      }),
      metrics(10, 'train', {
        loss: 0.512,
        chosen_reward: 0.25,
        rejected_reward: -0.125,
        accuracy: 0.75,
        margin: 0.375,
        learning_rate: 5e-6,
        it_per_sec: 1.5,
        tokens_per_sec: 900.5,
        peak_memory_gb: 8.25,
      }),
      progress(10, null),
      checkpoint(10),
      final,
    ],
  },
  {
    format: 'online_dpo/xpo/ppo train',
    file: 'online-dpo.txt',
    expected: [
      metrics(5, 'train', {
        loss: 0.25,
        accuracy: 0.625,
        margin: 1.5,
        learning_rate: 1e-5,
        it_per_sec: 0.25,
        tokens_per_sec: 128,
        trained_tokens: 4096,
        peak_memory_gb: 20.5,
      }),
      progress(5, null),
      metrics(5, 'val', {
        loss: 0.5,
        chosen_reward: 1.25,
        rejected_reward: -1.25,
        accuracy: 1,
        margin: 2.5,
        time_s: 10,
      }),
    ],
  },
  {
    format: 'rlhf_reinforce train and validation',
    file: 'rlhf-reinforce.txt',
    expected: [
      metrics(3, 'train', {
        loss: -0.5,
        rewards: 0.75,
        kl_penalty: 0.062,
        learning_rate: 1e-6,
        it_per_sec: 0.125,
        tokens_per_sec: 64,
        trained_tokens: 2048,
        peak_memory_gb: 9,
      }),
      progress(3, null),
      metrics(3, 'val', { loss: 0.375, rewards: 0.5, kl_penalty: 0.25, advantages: -Infinity, time_s: 1.5 }),
    ],
  },
  {
    format: 'FTPO train (.4f loss), FTPO bar and FTPO test',
    file: 'ftpo.txt',
    expected: [
      progress(0, 40),
      metrics(20, 'train', { loss: 0.1235, chosen_win: 0.875, margin_win: 0.5, it_per_sec: 2 }),
      progress(20, 40),
      progress(20, 40),
      progress(40, 40),
      metrics(40, 'test', { loss: 0.25, chosen_win: 0.75, margin_win: 0.5 }),
    ],
  },
  {
    format: 'GRPO validation and report block with three reward functions',
    file: 'grpo.txt',
    expected: [
      metrics(1, 'val', { loss: 0.062, time_s: 42.5 }),
      GRPO_BLOCK_10,
      progress(10, null),
      checkpoint(10),
      final,
    ],
  },
  {
    format: 'GRPO block cut off by the end of output',
    file: 'grpo-cut.txt',
    expected: [
      metrics(30, 'train', {
        loss: 0.012,
        total_rewards_mean: 1.25,
        total_rewards_std: 0.5,
        group_rewards_mean: 1.25,
        group_rewards_std: 0.375,
        kl: 0.000123,
      }),
      progress(30, null),
    ],
  },
  {
    format: 'v0.8.1 start line and single-line GRPO report',
    file: 'grpo-v081.txt',
    expected: [
      { kind: 'total_iterations', total: 50 },
      metrics(25, 'train', {
        loss: 0.004,
        total_rewards_mean: 1.5,
        total_rewards_std: 0.25,
        group_rewards_mean: 1.5,
        group_rewards_std: 0.125,
        kl: 0.001,
        learning_rate: 1e-5,
        it_per_sec: 0.5,
        tokens_per_sec: 256,
        peak_memory_gb: 14,
      }),
      progress(25, 50),
    ],
  },
  {
    format: 'HEAD Test Results with Tokens and <MODE> Test Metrics (no iteration seen)',
    file: 'test-grpo.txt',
    expected: [
      metrics(0, 'test', { loss: 1.5, perplexity: 4.482, tokens: 12345 }),
      metrics(0, 'test', { total_rewards_mean: 1.25, kl: 0 }),
    ],
  },
  {
    format: 'HEAD ORPO Test Results with Rewards, metrics, then fused',
    file: 'test-orpo.txt',
    expected: [
      metrics(0, 'test', { loss: 0.5, perplexity: 1.649, chosen_reward: 0.25, rejected_reward: -0.75 }),
      metrics(0, 'test', { accuracies: 0.75, margins: NaN }),
      fused,
    ],
  },
  {
    format: 'old "Test loss x, Test ppl y" lines and uncoloured Test Metrics',
    file: 'test-legacy.txt',
    expected: [
      metrics(100, 'val', { loss: 0.5, time_s: 1 }),
      metrics(100, 'test', { loss: 0.625, perplexity: 1.868 }),
      metrics(100, 'test', { accuracies: 0.5, margins: 0.125 }),
      metrics(100, 'test', { loss: 0.625, perplexity: 1.868 }),
    ],
  },
  {
    format: '[ERROR] lines, traceback tails, argparse and libc++abi errors',
    file: 'errors.txt',
    expected: [
      { kind: 'error', message: "Error: Reward function 'accuracy_reward' not found" },
      { kind: 'error', message: 'ValueError: Must provide at least one of --train or --test' },
      { kind: 'error', message: 'json.decoder.JSONDecodeError: Expecting value: line 2 column 1 (char 57)' },
      { kind: 'error', message: "mlx_lm_lora.train: error: argument --train-mode: invalid choice: 'gspo'" },
      {
        kind: 'error',
        message:
          'libc++abi: terminating due to uncaught exception of type std::runtime_error: [METAL] Command buffer execution failed: Insufficient Memory',
      },
    ],
  },
  {
    format: 'tqdm Training bar redrawn with \\r and a cursor-up escape',
    file: 'tqdm.txt',
    expected: [progress(0, 100), progress(1, 100), progress(45, 100), progress(100, 100)],
  },
];

describe('createTrainerOutputParser: one fixture per print format', () => {
  it.each(cases)('$format ($file)', ({ file, expected }) => {
    expect(parseAll(fixture(file))).toEqual(expected);
  });
});

describe('createTrainerOutputParser: blocks and streams', () => {
  const grpo = fixture('grpo.txt');
  const blockLines = grpo
    .slice(grpo.indexOf('='.repeat(80)))
    .split('\n')
    .slice(0, 24);

  it('fixture block runs from the opening to the closing 80-"=" line', () => {
    expect([blockLines[0], blockLines[23]]).toEqual(['='.repeat(80), '='.repeat(80)]);
  });

  it('emits a GRPO block at its closing line, before the next line is seen', () => {
    const parser = createTrainerOutputParser();
    const events = blockLines.flatMap((line) => parser.push(line));
    expect(events).toEqual([GRPO_BLOCK_10, progress(10, null)]);
    expect(parser.end()).toEqual([]);
  });

  it('flushes a cut GRPO block when the next block starts', () => {
    const parser = createTrainerOutputParser();
    const cut = ['Iter 10:', 'Loss: 1.500', 'Iter 20:', 'Loss: 2.500', '='.repeat(80)];
    expect(cut.flatMap((line) => parser.push(line))).toEqual([
      metrics(10, 'train', { loss: 1.5 }),
      progress(10, null),
      metrics(20, 'train', { loss: 2.5 }),
      progress(20, null),
    ]);
  });

  it('flushes a cut GRPO block before a later report or error line', () => {
    const lines = ['Iter 10:', 'Loss: 1.500', 'Iter 11: Val loss 1.000, Val took 2.000s', 'KeyError: x'];
    expect(parseAll(lines.join('\n'))).toEqual([
      metrics(10, 'train', { loss: 1.5 }),
      progress(10, null),
      metrics(11, 'val', { loss: 1, time_s: 2 }),
      { kind: 'error', message: 'KeyError: x' },
    ]);
  });

  it('keeps a GRPO block open across a tqdm redraw from a merged stderr', () => {
    const lines = [
      'Iter 10:',
      'Loss: 1.500',
      '\rTraining:  10%|█         | 10/100 [00:10<01:30]',
      'Memory: 2.000GB',
    ];
    expect(parseAll(lines.join('\n'))).toEqual([
      progress(10, 100),
      metrics(10, 'train', { loss: 1.5, peak_memory_gb: 2 }),
      progress(10, 100),
    ]);
  });

  it('accepts tqdm fragments, bars without a total, and redraws split mid-line', () => {
    const parser = createTrainerOutputParser();
    const events = [
      ...parser.push('Training: 7it [00:03,  2.10it/s]'),
      ...parser.push('Trainin'),
      ...parser.push('g:  50%|█████     | 50/100 [00:25<00:25,  2.00it/s]'),
      ...parser.push('  '),
      ...parser.push('Training:  60%|██████    | 60/100 [00:30<00:20,  2.00it/s]\x1b[K'),
    ];
    expect(events).toEqual([progress(7, null), progress(60, 100)]);
  });

  it('uses the known total for train reports after a bar has shown it', () => {
    const parser = createTrainerOutputParser();
    parser.push('Training:  10%|█         | 10/100 [00:10<01:30]');
    expect(parser.push('Iter 10: loss 1.000, lr 1.000e-05')).toEqual([
      metrics(10, 'train', { loss: 1, learning_rate: 1e-5 }),
      progress(10, 100),
    ]);
  });

  it('parses the mlx_lm train wording (no accuracy or rewards column)', () => {
    const line =
      'Iter 10: Train loss 1.234, Learning Rate 1.000e-05, It/sec 0.500, Tokens/sec 100.000, Trained Tokens 400, Peak mem 3.000 GB';
    expect(parseAll(line)).toEqual([
      metrics(10, 'train', {
        loss: 1.234,
        learning_rate: 1e-5,
        it_per_sec: 0.5,
        tokens_per_sec: 100,
        trained_tokens: 400,
        peak_memory_gb: 3,
      }),
      progress(10, null),
    ]);
  });

  it('splits checkpoint paths that contain " and "', () => {
    const line =
      'Iter 5: Saved adapter weights to a and b/adapters.safetensors and a and b/0000005_adapters.safetensors.';
    expect(parseAll(line)).toEqual([
      {
        kind: 'checkpoint',
        iteration: 5,
        adapterFile: 'a and b/adapters.safetensors',
        checkpointFile: 'a and b/0000005_adapters.safetensors',
      },
    ]);
  });

  it('ignores look-alike lines', () => {
    const lines = [
      'Iter 5: loss is going down',
      'Iter x: loss 1.000',
      'Iter 5:oops',
      'Learning Rate: 1e-05',
      'Loss: 1.000',
      '  accuracies: 0.500',
      'Saved final weights to ',
      'Error loading custom reward functions: boom',
      'UserWarning: something',
      'Training: done',
      '[INFO] Loading datasets',
      '[SUCCESS] Using custom reward functions: a, b',
      '',
    ];
    expect(parseAll(lines.join('\n'))).toEqual([]);
  });
});

describe('stripAnsi', () => {
  it.each([
    ['\x1b[94m[INFO]\x1b[0m Loading', '[INFO] Loading'],
    ['\x1b[1m\x1b[97mTitle\x1b[0m', 'Title'],
    ['\x1b[AUp \x1b[2KClear \x1b[?25lHide', 'Up Clear Hide'],
    ['\x1b]0;title\x07text', 'text'],
    ['cut at end \x1b[3', 'cut at end '],
    ['plain μ σ •', 'plain μ σ •'],
  ])('%j -> %j', (input, output) => {
    expect(stripAnsi(input)).toBe(output);
  });
});

describe('createTrainerOutputParser: robustness and speed', () => {
  const fixtureLines = cases.flatMap(({ file }) => fixture(file).split(/\r|\n/));
  const tokens = [
    'Iter ',
    '12',
    ':',
    ' ',
    ', ',
    'loss ',
    'Val loss ',
    'nan',
    '-inf',
    '1.000e-05',
    'GB',
    '=',
    '='.repeat(80),
    '  • ',
    'μ=',
    'σ=',
    'cov=',
    '%',
    'Test Results:',
    '  Loss: ',
    ' Test Metrics:',
    'Training: ',
    '|',
    '/',
    '[ERROR]',
    '\x1b[',
    'm',
    'Error',
    ': error: ',
    ' and ',
    '.',
    'Saved final weights to ',
    'é',
    '\u0000',
  ];
  const lineArb = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 120 }),
    fc.array(fc.constantFrom(...tokens), { maxLength: 20 }).map((parts) => parts.join('')),
    fc
      .tuple(fc.constantFrom(...fixtureLines), fc.nat(), fc.string({ maxLength: 3 }))
      .map(([line, cut, extra]) => line.slice(0, cut % (line.length + 1)) + extra),
  );

  it('never throws on random lines and only emits well-formed events', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 60 }), (lines) => {
        const parser = createTrainerOutputParser();
        const events = [...lines.flatMap((line) => parser.push(line)), ...parser.end()];
        for (const event of events) {
          if (event.kind === 'metrics') {
            expect(Number.isInteger(event.iteration)).toBe(true);
            for (const point of event.points) expect(typeof point.value).toBe('number');
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on non-string input from untyped callers', () => {
    const parser = createTrainerOutputParser();
    expect(parser.push(undefined as unknown as string)).toEqual([]);
    expect(parser.push(42 as unknown as string)).toEqual([]);
  });
});
