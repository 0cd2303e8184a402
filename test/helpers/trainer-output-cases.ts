// The trainer-output parser's test cases: one fixture per print format in test/fixtures/output with the events it
// must give, the event builders they use, and parseAll (what the worker does with a trainer's output).
import { readFileSync } from 'node:fs';

import {
  createTrainerOutputParser,
  type MetricSplit,
  type TrainerEvent,
} from '../../src/domain/trainer-output.js';

export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/output/${name}`, import.meta.url), 'utf8');
}

/** What the worker does: split stdout/stderr on \n and \r, push every piece, then end(). */
export function parseAll(text: string): TrainerEvent[] {
  const parser = createTrainerOutputParser();
  const events = text.split(/\r|\n/).flatMap((line) => parser.push(line));
  return [...events, ...parser.end()];
}

export function metrics(iteration: number, split: MetricSplit, values: Record<string, number>): TrainerEvent {
  const points = Object.entries(values).map(([name, value]) => ({ iteration, split, name, value }));
  return { kind: 'metrics', iteration, split, points };
}

export const progress = (iteration: number, total: number | null): TrainerEvent => ({
  kind: 'progress',
  iteration,
  total,
});
export const checkpoint = (iteration: number): TrainerEvent => ({
  kind: 'checkpoint',
  iteration,
  adapterFile: 'adapters/adapters.safetensors',
  checkpointFile: `adapters/${String(iteration).padStart(7, '0')}_adapters.safetensors`,
});
export const final: TrainerEvent = { kind: 'final', adapterFile: 'adapters/adapters.safetensors' };
export const fused: TrainerEvent = { kind: 'fused', path: 'adapters' };

/** The first lines of the GRPO report block in grpo.txt and grpo-cut.txt. */
const GRPO_HEAD = {
  loss: 0.012,
  total_rewards_mean: 1.25,
  total_rewards_std: 0.5,
  group_rewards_mean: 1.25,
  group_rewards_std: 0.375,
  kl: 0.000123,
};

export const GRPO_BLOCK_10 = metrics(10, 'train', {
  ...GRPO_HEAD,
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

export const cases: Array<{ format: string; file: string; expected: TrainerEvent[] }> = [
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
    expected: [metrics(30, 'train', GRPO_HEAD), progress(30, null)],
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
