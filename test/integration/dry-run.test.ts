import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

import { type Method, METHOD_INFO, METHODS } from '../../src/domain/methods.js';
import { MODEL as model, standInEnv, TEST_DATA } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';

const env = useTestEnv({}, { perFile: true });
const judge = 'mlx-community/Qwen2.5-1.5B-Instruct-4bit';
const DATA: Record<string, string> = {
  sft: 'sft-chat',
  preference: 'dpo',
  grpo: 'grpo',
  online: 'prompts',
  ftpo: 'ftpo',
};

function requestFor(method: Method, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const info = METHOD_INFO[method];
  const dataDir = method === 'orpo' ? 'orpo' : DATA[info.family]!;
  return {
    method,
    model,
    data: path.join(TEST_DATA, dataDir),
    iters: 6,
    batch_size: 2,
    steps_per_report: 2,
    steps_per_eval: 3,
    save_every: 3,
    ...(info.mode.judge ? { judge } : {}),
    ...(method === 'dapo' ? { epsilon_high: 0.28 } : {}),
    ...extra,
  };
}

async function dryRun(body: unknown) {
  return env.app.inject({ method: 'POST', url: '/v1/runs?dryRun=true', payload: body as object });
}

/** Runs a dry run's argv through the stand-in, with the run folder moved to a temp dir. */
async function runThroughStandIn(argv: string[], config: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-argv-'));
  const configPath = path.join(dir, 'config.yaml');
  const args = argv.map((a) =>
    a.startsWith('--config=')
      ? `--config=${configPath}`
      : a.startsWith('--adapter-path=')
        ? `--adapter-path=${path.join(dir, 'adapters')}`
        : a,
  );
  fs.writeFileSync(configPath, config);
  const r = await execa(args[0]!, args.slice(1), {
    env: standInEnv({ PYTHONUNBUFFERED: '1' }),
    reject: false,
    timeout: 20_000,
  });
  const adapters = fs.existsSync(path.join(dir, 'adapters', 'adapters.safetensors'));
  const fused = fs.existsSync(path.join(dir, 'adapters', 'model.safetensors'));
  fs.rmSync(dir, { recursive: true, force: true });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, adapters, fused };
}

describe('dry runs answer an argv that the strict stand-in CLI accepts and trains with', () => {
  it.each(METHODS)('%s', async (method) => {
    const res = await dryRun(requestFor(method));
    expect(res.statusCode, res.body).toBe(200);
    const { argv, config, dataset } = res.json();
    expect(argv.slice(0, 3)).toEqual(['python3', '-m', 'mlx_lm_lora.train']);
    expect(argv).toContain(`--train-mode=${METHOD_INFO[method].trainMode}`);
    expect(config).toContain('fuse: false');
    expect(dataset.ok).toBe(true);
    const r = await runThroughStandIn(argv, config);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.adapters).toBe(true);
    expect(r.fused).toBe(false);
  });

  it.each([
    [
      'grpo with every GRPO option',
      requestFor('grpo', {
        group_size: 8,
        temperature: 1.1,
        epsilon: 0.002,
        max_completion_length: 256,
        beta: 0.05,
        grpo_loss_type: 'bnpo',
        importance_sampling_level: 'token',
        reward_functions: 'r1_accuracy_reward_func,r1_int_reward_func',
        reward_weights: [0.5, 0.5],
        learning_rate: 2e-6,
        seed: 7,
        gradient_accumulation_steps: 2,
      }),
    ],
    [
      'sft with YAML-only keys and booleans',
      requestFor('sft', {
        lora_parameters: { rank: 4, dropout: 0.1, scale: 16 },
        lr_schedule: { name: 'cosine_decay', arguments: [1e-5, 6], warmup: 2 },
        optimizer: 'adamw',
        optimizer_config: { adamw: { weight_decay: 0.01 } },
        grad_checkpoint: true,
        mask_prompt: true,
        sft_loss_type: 'chunked_nll',
        train_type: 'dora',
        num_layers: 4,
        max_seq_length: 1024,
        epochs: undefined,
      }),
    ],
    ['sft by epochs', { ...requestFor('sft'), iters: undefined, epochs: 1 }],
    [
      'dpo with loss options and test',
      requestFor('dpo', {
        dpo_cpo_loss_type: 'dpop',
        delta: 20,
        beta: 0.2,
        test: false,
        load_in_4bits: true,
      }),
    ],
    [
      'ppo with judge options',
      requestFor('ppo', {
        epsilon: 0.2,
        temperature: 0.7,
        max_completion_length: 64,
        judge_config: { system_prompt: 'Be strict.' },
      }),
    ],
    [
      'ftpo with its options',
      requestFor('ftpo', {
        lambda_mse_target: 0.1,
        tau_mse_target: 0.5,
        lambda_mse: 0.2,
        clip_epsilon_logits: 1.5,
      }),
    ],
    ['fuse on', requestFor('sft', { fuse: true })],
  ])('%s', async (_name, body) => {
    const res = await dryRun(JSON.parse(JSON.stringify(body)));
    expect(res.statusCode, res.body).toBe(200);
    const { argv, config } = res.json();
    const r = await runThroughStandIn(argv, config);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.adapters).toBe(true);
    expect(r.fused).toBe((body as { fuse?: boolean }).fuse === true);
  });

  it('creates no run', async () => {
    await dryRun(requestFor('sft'));
    const list = (await env.app.inject({ method: 'GET', url: '/v1/runs' })).json();
    expect(list.items).toEqual([]);
  });
});

describe('reward_functions_file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-rewards-'));
  const file = path.join(dir, 'rewards.py');
  fs.writeFileSync(
    file,
    [
      'from mlx_lm_lora.trainer.grpo_reward_functions import register_reward_function',
      '',
      '@register_reward_function()',
      'def brevity_reward(prompts, completions, answer, types=None):',
      '    return [1.0 / (1 + len(c)) for c in completions]',
      '',
      '@register_reward_function(name="exact_match")',
      'def _exact(prompts, completions, answer, types=None):',
      '    return [2.0 if c.strip() == a.strip() else 0.0 for c, a in zip(completions, answer)]',
      '',
    ].join('\n'),
  );
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('accepts functions the file registers, and the trainer runs them', async () => {
    const body = requestFor('grpo', {
      reward_functions_file: file,
      reward_functions: ['brevity_reward', 'exact_match', 'r1_count_xml'],
    });
    const res = await dryRun(body);
    expect(res.statusCode, res.body).toBe(200);
    const { argv, config } = res.json();
    expect(argv).toContain('--reward-functions=brevity_reward,exact_match,r1_count_xml');
    const r = await runThroughStandIn(argv, config);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/• brevity_reward: μ=/);
    expect(r.adapters).toBe(true);
  });

  it('refuses a name the file does not register, naming what it found', async () => {
    const res = await dryRun(
      requestFor('grpo', { reward_functions_file: file, reward_functions: ['brevity'] }),
    );
    expect(res.statusCode).toBe(400);
    const issue = res.json().issues.find((i: { path: string }) => i.path === 'reward_functions');
    expect(issue.message).toMatch(/"brevity".*found: brevity_reward, exact_match/);
  });

  it('refuses a file that does not exist', async () => {
    const res = await dryRun(
      requestFor('grpo', { reward_functions_file: path.join(dir, 'nope.py'), reward_functions: ['x'] }),
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().issues.map((i: { path: string }) => i.path)).toContain('reward_functions_file');
  });
});

describe('bad requests and datasets are refused at the door', () => {
  it('answers 400 naming the field for a bad request', async () => {
    const res = await dryRun({ ...requestFor('sft'), group_size: 4 });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_request', issues: [{ path: 'group_size' }] });
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: '{"method":',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_json');
  });

  it('answers 422 for a data directory that does not exist, before upstream could turn it into a network lookup', async () => {
    const res = await dryRun({ ...requestFor('sft'), data: path.join(TEST_DATA, 'nope') });
    expect(res.statusCode).toBe(422);
    expect(res.json().problems[0].message).toMatch(/Hugging Face/);
  });

  it.each([
    [
      'blank-line',
      'sft',
      [
        ['train.jsonl', 5],
        ['train.jsonl', 10],
      ],
    ],
    ['bom', 'sft', [['train.jsonl', 1]]],
    [
      'mixed-format',
      'sft',
      [
        ['train.jsonl', 4],
        ['train.jsonl', 7],
        ['valid.jsonl', 2],
      ],
    ],
    ['old-grpo-format', 'grpo', [['train.jsonl', 1]]],
  ] as const)('answers 422 with file and line for bad/%s', async (dir, method, expected) => {
    const res = await dryRun({ ...requestFor(method), data: path.join(TEST_DATA, 'bad', dir) });
    expect(res.statusCode, res.body).toBe(422);
    const body = res.json();
    expect(body.error).toBe('invalid_dataset');
    const got = body.problems.map((p: { file: string; line: number }) => [p.file, p.line]);
    for (const e of expected) expect(got).toContainEqual(e);
    if (dir === 'old-grpo-format') expect(body.problems[0].message).toMatch(/prompt.*answer.*system/);
    expect(body.report.splits.train.rows).toBeGreaterThan(0);
  });

  it('answers 422 when a split has fewer rows than batch_size, for a mode that would hang', async () => {
    const res = await dryRun({ ...requestFor('dpo'), batch_size: 64 });
    expect(res.statusCode).toBe(422);
    expect(JSON.stringify(res.json().problems)).toMatch(/hang/);
  });

  it('POST /v1/datasets/validate reports without submitting', async () => {
    const ok = await env.app.inject({
      method: 'POST',
      url: '/v1/datasets/validate',
      payload: { data: path.join(TEST_DATA, 'grpo'), method: 'gspo' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true, format: 'grpo' });
    const bad = await env.app.inject({
      method: 'POST',
      url: '/v1/datasets/validate',
      payload: { data: path.join(TEST_DATA, 'bad', 'bom'), method: 'sft' },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().problems[0]).toMatchObject({ file: 'train.jsonl', line: 1 });
  });

  it('GET /v1/methods lists every method with parameters, ranges and a sample record', async () => {
    const res = await env.app.inject({ method: 'GET', url: '/v1/methods' });
    const { methods } = res.json();
    expect(methods.map((m: { method: string }) => m.method)).toEqual([...METHODS]);
    const grpo = methods.find((m: { method: string }) => m.method === 'grpo');
    const gs = grpo.parameters.find((p: { key: string }) => p.key === 'group_size');
    expect(gs).toMatchObject({ type: 'int', default: 4, min: 2, recommended: { min: 2, max: 16 } });
    expect(grpo.parameters.find((p: { key: string }) => p.key === 'temperature').default).toBe(0.8);
    expect(grpo.sampleRecord).toHaveProperty('answer');
    const gspo = methods.find((m: { method: string }) => m.method === 'gspo');
    expect(gspo.parameters.find((p: { key: string }) => p.key === 'importance_sampling_level')).toMatchObject(
      { default: 'sequence', fixed: true },
    );
  });
});
