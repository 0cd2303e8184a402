// The dry-run tests' shared set-up: a valid request for each method on test_data, POST /v1/runs?dryRun=true, and
// the stand-in trainer run with a dry run's argv and config.yaml.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { execa } from 'execa';

import { type Method, METHOD_INFO } from '../../src/domain/methods.js';
import { MODEL as model, standInEnv, TEST_DATA, type TestEnv } from './test-env.js';

const judge = 'mlx-community/Qwen2.5-1.5B-Instruct-4bit';
const DATA: Record<string, string> = {
  sft: 'sft-chat',
  preference: 'dpo',
  grpo: 'grpo',
  online: 'prompts',
  ftpo: 'ftpo',
};

/** A request of `method` that trains 6 iterations on its family's test_data, with `extra` on top. */
export function requestFor(method: Method, extra: Record<string, unknown> = {}): Record<string, unknown> {
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

/** POST /v1/runs?dryRun=true on `env`'s app. */
export function dryRunOf(env: TestEnv) {
  return (body: unknown) =>
    env.app.inject({ method: 'POST', url: '/v1/runs?dryRun=true', payload: body as object });
}

/** Runs a dry run's argv through the stand-in, with the run folder moved to a temp dir. */
export async function runThroughStandIn(argv: string[], config: string) {
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

/** A reward-functions file that registers brevity_reward (the stand-in's registry, as upstream's). */
export const BREVITY_REWARD_PY = [
  'from mlx_lm_lora.trainer.grpo_reward_functions import register_reward_function',
  '',
  '@register_reward_function()',
  'def brevity_reward(prompts, completions, answer, types=None):',
  '    return [1.0 / (1 + len(c)) for c in completions]',
  '',
].join('\n');
