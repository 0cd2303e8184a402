import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { buildCommand } from '../../src/domain/build-command.js';
import { parseRunRequest } from '../../src/domain/run-request.js';

const ctx = { python: 'python3', runDir: '/runs/r1' };
const base = { model: 'mlx-community/Qwen2.5-0.5B-Instruct-4bit', data: 'test_data/grpo', iters: 20 };
const build = (body: Record<string, unknown>, extra: Partial<typeof ctx> & Record<string, unknown> = {}) =>
  buildCommand(parseRunRequest(body).request, { ...ctx, ...extra });

/** The value of `--flag=value`, or true for a bare flag, or undefined when absent. */
function flag(argv: string[], name: string): string | true | undefined {
  if (argv.includes(name)) return true;
  return argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
}

describe('buildCommand', () => {
  it('starts with the interpreter and module and ends with the run folder and config', () => {
    const { argv, configPath, adapterPath } = build({ method: 'sft', ...base });
    expect(argv.slice(0, 5)).toEqual(['python3', '-m', 'mlx_lm_lora.train', '--train', '--train-mode=sft']);
    expect(argv.slice(-2)).toEqual(['--adapter-path=/runs/r1/adapters', '--config=/runs/r1/config.yaml']);
    expect(configPath).toBe('/runs/r1/config.yaml');
    expect(adapterPath).toBe('/runs/r1/adapters');
  });

  it.each([
    [
      'grpo',
      {},
      { '--train-mode': 'grpo', '--importance-sampling-level': 'token', '--grpo-loss-type': 'grpo' },
    ],
    ['gspo', {}, { '--train-mode': 'grpo', '--importance-sampling-level': 'sequence' }],
    ['dr_grpo', {}, { '--train-mode': 'grpo', '--grpo-loss-type': 'dr_grpo' }],
    [
      'dapo',
      { epsilon_high: 0.28 },
      { '--train-mode': 'grpo', '--epsilon-high': '0.28', '--epsilon': '0.0001' },
    ],
  ])('maps %s onto grpo with its variant flags', (method, extra, expected) => {
    const { argv } = build({ method, ...base, ...extra });
    for (const [f, v] of Object.entries(expected)) expect(flag(argv, f)).toBe(v);
  });

  it('always passes the options whose YAML value upstream ignores, with temperature 0.8 explicitly', () => {
    const { argv } = build({ method: 'grpo', ...base });
    expect(flag(argv, '--temperature')).toBe('0.8');
    expect(flag(argv, '--group-size')).toBe('4');
    expect(flag(argv, '--max-completion-length')).toBe('512');
    expect(flag(argv, '--epsilon')).toBe('0.0001');
    expect(flag(argv, '--gradient-accumulation-steps')).toBe('1');
  });

  it('passes the request values of GRPO options', () => {
    const { argv } = build({
      method: 'grpo',
      ...base,
      group_size: 8,
      temperature: 1.1,
      reward_functions: ['r1_accuracy_reward_func', 'r1_count_xml'],
      reward_weights: [0.7, 0.3],
      learning_rate: 2e-6,
    });
    expect(flag(argv, '--group-size')).toBe('8');
    expect(flag(argv, '--temperature')).toBe('1.1');
    expect(flag(argv, '--reward-functions')).toBe('r1_accuracy_reward_func,r1_count_xml');
    expect(flag(argv, '--reward-weights')).toBe('0.7,0.3');
    expect(flag(argv, '--learning-rate')).toBe('0.000002');
  });

  it('passes the per-family always-on options only to the modes that read them', () => {
    expect(flag(build({ method: 'sft', ...base }).argv, '--sft-loss-type')).toBe('nll');
    expect(flag(build({ method: 'sft', ...base }).argv, '--temperature')).toBeUndefined();
    const dpo = build({ method: 'dpo', ...base }).argv;
    expect(flag(dpo, '--dpo-cpo-loss-type')).toBe('sigmoid');
    expect(flag(dpo, '--delta')).toBe('50');
    expect(flag(dpo, '--group-size')).toBeUndefined();
    const ppo = build({ method: 'ppo', ...base, judge: 'j/m' }).argv;
    expect(flag(ppo, '--judge')).toBe('j/m');
    expect(flag(ppo, '--temperature')).toBe('0.8');
  });

  it('renders booleans as bare flags and leaves false ones out', () => {
    const { argv } = build({ method: 'sft', ...base, grad_checkpoint: true, mask_prompt: false });
    expect(flag(argv, '--grad-checkpoint')).toBe(true);
    expect(argv).not.toContain('--mask-prompt');
  });

  it('writes fuse: false and the YAML-only keys into config.yaml, never onto the command line', () => {
    const { argv, configYaml } = build({
      method: 'sft',
      ...base,
      lora_parameters: { rank: 16 },
      lr_schedule: { name: 'cosine_decay', arguments: [1e-5, 100] },
    });
    expect(parse(configYaml, { version: '1.1' })).toEqual({
      fuse: false,
      lora_parameters: { rank: 16 },
      lr_schedule: { name: 'cosine_decay', arguments: [1e-5, 100] },
    });
    expect(argv.join(' ')).not.toMatch(/--lora|--lr-schedule|--fuse|rank/);
  });

  it('writes fuse: true when asked', () => {
    expect(parse(build({ method: 'sft', ...base, fuse: true }).configYaml)).toEqual({ fuse: true });
  });

  it('resumes from a checkpoint with the remaining iterations', () => {
    const { argv } = build(
      { method: 'sft', model: 'm/x', data: 'd', epochs: 3 },
      {
        resume: { adapterFile: '/runs/r1/adapters/0000100_adapters.safetensors', remainingIterations: 50 },
      },
    );
    expect(flag(argv, '--iters')).toBe('50');
    expect(argv).not.toContain('--epochs');
    expect(flag(argv, '--resume-adapter-file')).toBe('/runs/r1/adapters/0000100_adapters.safetensors');
  });

  it('uses the resolved dataset directory for uploads', () => {
    expect(flag(build({ method: 'sft', ...base }, { dataDir: '/data/datasets/abc' }).argv, '--data')).toBe(
      '/data/datasets/abc',
    );
  });

  it('sets the environment the trainer needs', () => {
    expect(build({ method: 'sft', ...base }).env).toMatchObject({
      PYTHONUNBUFFERED: '1',
      PYTHONIOENCODING: 'utf-8',
    });
  });

  it('is deterministic', () => {
    const body = { method: 'grpo', ...base, temperature: 0.9, group_size: 2 };
    expect(build(body)).toEqual(build(body));
  });
});
