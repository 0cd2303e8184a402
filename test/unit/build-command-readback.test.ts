// Every built command goes through the stand-in's real argparse parser, and each value arrives as the request gave it.
import { beforeAll, describe, expect, it } from 'vitest';

import { buildCommand } from '../../src/domain/build-command.js';
import { METHOD_INFO, METHODS } from '../../src/domain/methods.js';
import { OPTION_BY_KEY } from '../../src/domain/run-options.js';
import { parseRunRequest } from '../../src/domain/run-request.js';
import { GRPO_OPTIONS } from '../helpers/grpo-options.js';
import { type ParsedArgv, readBack, trainerArgs } from '../helpers/readback.js';

const base = { model: 'mlx-community/Qwen2.5-0.5B-Instruct-4bit', data: 'test_data/grpo', iters: 20 };

function requestFor(method: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const info = METHOD_INFO[method as keyof typeof METHOD_INFO];
  return {
    method,
    ...base,
    ...(info.mode.judge ? { judge: 'j/m' } : {}),
    ...(method === 'dapo' ? { epsilon_high: 0.28 } : {}),
    ...extra,
  };
}

/** [name, request, {dest: value the trainer must see}] */
const CASES: [string, Record<string, unknown>, Record<string, unknown>][] = [
  ...METHODS.map((m): [string, Record<string, unknown>, Record<string, unknown>] => [
    `plain ${m}`,
    requestFor(m),
    { train_mode: METHOD_INFO[m].trainMode, iters: 20 },
  ]),
  // Values argparse takes for options when they are separate arguments only if they look like numbers to it.
  [
    'negative reward weights',
    requestFor('grpo', {
      reward_functions: ['r1_accuracy_reward_func', 'r1_count_xml'],
      reward_weights: [-0.5, 1],
    }),
    { reward_weights: '-0.5,1' },
  ],
  [
    'negative exponent weights',
    requestFor('grpo', {
      reward_functions: ['r1_accuracy_reward_func', 'r1_count_xml'],
      reward_weights: [-1e-7, 2.5e-8],
    }),
    { reward_weights: '-1e-7,2.5e-8' },
  ],
  ['delta -1e-7', requestFor('dpo', { delta: -1e-7 }), { delta: -1e-7 }],
  ['delta -5', requestFor('dpo', { delta: -5 }), { delta: -5 }],
  ['delta -0.5', requestFor('cpo', { delta: -0.5 }), { delta: -0.5 }],
  ['delta 1e+25', requestFor('dpo', { delta: 1e25 }), { delta: 1e25 }],
  ['learning rate 1e-7', requestFor('sft', { learning_rate: 1e-7 }), { learning_rate: 1e-7 }],
  ['learning rate 2.5e-8', requestFor('sft', { learning_rate: 2.5e-8 }), { learning_rate: 2.5e-8 }],
  ['epsilon 1e-7', requestFor('grpo', { epsilon: 1e-7 }), { epsilon: 1e-7 }],
  [
    'epsilon_high 5e-7',
    requestFor('dapo', { epsilon: 1e-7, epsilon_high: 5e-7 }),
    { epsilon: 1e-7, epsilon_high: 5e-7 },
  ],
  ['num_layers -1', requestFor('sft', { num_layers: -1 }), { num_layers: -1 }],
  [
    'val and test batches -1',
    requestFor('dpo', { val_batches: -1, test_batches: -1 }),
    { val_batches: -1, test_batches: -1 },
  ],
  ['beta 0', requestFor('orpo', { beta: 0 }), { beta: 0 }],
  [
    'tiny ftpo values',
    requestFor('ftpo', {
      lambda_mse_target: 1e-9,
      tau_mse_target: 3e-8,
      lambda_mse: 0,
      clip_epsilon_logits: 1e-12,
    }),
    { lambda_mse_target: 1e-9, tau_mse_target: 3e-8, lambda_mse: 0, clip_epsilon_logits: 1e-12 },
  ],
  [
    'option-heavy grpo',
    requestFor('grpo', {
      ...GRPO_OPTIONS,
      batch_size: 2,
      steps_per_report: 1,
      steps_per_eval: 3,
      save_every: 4,
      max_seq_length: 1024,
      train_type: 'dora',
      optimizer: 'adamw',
      grad_checkpoint: true,
      load_in_8bits: true,
      wandb: 'proj',
      reference_model_path: 'ref/m',
    }),
    {
      group_size: 8,
      temperature: 1.1,
      grpo_loss_type: 'bnpo',
      reward_functions: 'r1_accuracy_reward_func,r1_int_reward_func',
      grad_checkpoint: true,
      load_in_8bits: true,
      train_type: 'dora',
      reference_model_path: 'ref/m',
    },
  ],
  [
    'option-heavy sft',
    requestFor('sft', {
      sft_loss_type: 'dft',
      mask_prompt: true,
      efficient_long_context: true,
      qat_enable: true,
      qat_bits: 4,
      qat_group_size: 32,
      qat_mode: 'affine',
      qat_start_step: 2,
      qat_interval: 3,
      epochs: 2,
      iters: undefined,
      data: 'data = with spaces and "quotes"',
    }),
    {
      sft_loss_type: 'dft',
      mask_prompt: true,
      qat_bits: 4,
      epochs: 2,
      iters: null,
      data: 'data = with spaces and "quotes"',
    },
  ],
  [
    'dpo options',
    requestFor('dpo', { dpo_cpo_loss_type: 'dpop', delta: 20, beta: 0.2, load_in_4bits: true }),
    { dpo_cpo_loss_type: 'dpop', delta: 20, beta: 0.2 },
  ],
  [
    'path values with = and leading spaces',
    requestFor('sft', { model: ' =model/x', wandb: '=x' }),
    { model: ' =model/x', wandb: '=x' },
  ],
];

let parsed: ParsedArgv[];
const built = CASES.map(([, body]) =>
  buildCommand(parseRunRequest(JSON.parse(JSON.stringify(body))).request, {
    python: 'python3',
    runDir: '/runs/r 1',
  }),
);

beforeAll(async () => {
  ({ argvs: parsed } = await readBack({ argvs: built.map((b) => trainerArgs(b.argv)) }));
}, 60_000);

describe('built commands read back through argparse', () => {
  it.each(CASES.map((c, i) => [c[0], i] as const))('%s', (_name, i) => {
    const [, body, expected] = CASES[i]!;
    const r = parsed[i]!;
    expect(r.error ?? null, built[i]!.argv.join(' ')).toBeNull();
    expect(r.ok).toBe(true);
    expect(r.args).toMatchObject({
      adapter_path: '/runs/r 1/adapters',
      config: '/runs/r 1/config.yaml',
      train: true,
    });
    for (const [dest, value] of Object.entries(expected))
      expect([dest, r.args![dest]]).toEqual([dest, value]);
    // Every option the request set arrives with the parser's type: ints as int, floats as float.
    for (const [key, value] of Object.entries(body)) {
      const spec = OPTION_BY_KEY.get(key);
      if (!spec?.flag || value === undefined || key === 'reward_weights' || key === 'reward_functions')
        continue;
      if (spec.kind === 'int') expect([key, r.types![key]]).toEqual([key, 'int']);
      if (spec.kind === 'float') expect([key, r.types![key]]).toEqual([key, 'float']);
      if (spec.kind === 'int' || spec.kind === 'float') expect([key, r.args![key]]).toEqual([key, value]);
    }
    if (Array.isArray(body.reward_weights)) {
      // Upstream: [float(x) for x in s.strip("[]").split(",")]
      expect(String(r.args!.reward_weights).split(',').map(Number)).toEqual(body.reward_weights);
    }
  });
});
