// mlx-lm-lora YAML configs as run requests: upstream files unchanged, train_mode and variants to a method, keys the service sets.
import { describe, expect, it } from 'vitest';

import { parseRunRequest } from '../../src/domain/run-request.js';
import { runRequestFromYamlConfig } from '../../src/domain/yaml-config.js';
import { base, fromYaml, issuesOf, paths, readConfig } from '../helpers/yaml-config-cases.js';

describe('an upstream config file, unchanged', () => {
  it('the GRPO example: train_mode grpo, comma-string reward functions, 1e-5, lora_parameters with keys', () => {
    const { request, yamlWarnings } = fromYaml(readConfig('grpo.yaml'));
    expect(request).toMatchObject({
      method: 'grpo',
      learning_rate: 1e-5,
      epsilon: 1e-4,
      iters: 20,
      grad_checkpoint: true,
      reward_functions: ['r1_accuracy_reward_func', 'r1_count_xml'],
      reward_weights: [0.7, 0.3],
      lora_parameters: { rank: 8, scale: 64, dropout: 0.05 },
    });
    expect(request).not.toHaveProperty('train');
    expect(request).not.toHaveProperty('adapter_path');
    expect(request).not.toHaveProperty('resume_adapter_file');
    expect(request).not.toHaveProperty('train_mode');
    expect(paths(yamlWarnings)).toEqual(
      expect.arrayContaining(['train', 'adapter_path', 'lora_parameters.keys', 'fuse']),
    );
  });

  it('the SFT example with optimizer_config, lr_schedule and fuse: false', () => {
    const { request, yamlWarnings } = fromYaml(readConfig('sft.yaml'));
    expect(request.method).toBe('sft');
    expect(request.fuse).toBe(false);
    expect(request.lr_schedule).toEqual({
      name: 'cosine_decay',
      warmup: 2,
      warmup_init: 1e-7,
      arguments: [1e-5, 12, 1e-7],
    });
    expect(request.optimizer_config).toEqual({
      adamw: { betas: [0.9, 0.98], eps: 1e-6, weight_decay: 0.05, bias_correction: true },
    });
    expect(paths(yamlWarnings)).not.toContain('fuse');
  });

  it('PyYAML booleans: `fuse: no` is false, as upstream reads it', () => {
    const { request } = fromYaml(readConfig('dpo.yaml'));
    expect(request).toMatchObject({ method: 'dpo', fuse: false, train_type: 'dora', learning_rate: 5e-6 });
  });

  it('without train_mode the config trains SFT, as upstream', () => {
    expect(runRequestFromYamlConfig({ ...base }).body.method).toBe('sft');
  });
});

describe('train_mode and variant options map to a method', () => {
  it.each([
    [{ train_mode: 'grpo' }, 'grpo'],
    [{ train_mode: 'grpo', importance_sampling_level: 'sequence' }, 'gspo'],
    [{ train_mode: 'grpo', grpo_loss_type: 'dr_grpo' }, 'dr_grpo'],
    [{ train_mode: 'grpo', epsilon_high: 0.28 }, 'dapo'],
    [{ train_mode: 'grpo', importance_sampling_level: 'token', grpo_loss_type: 'bnpo' }, 'grpo'],
    [{ train_mode: 'dpo' }, 'dpo'],
    [{ train_mode: 'rlhf_reinforce', judge: 'mlx-community/j' }, 'rlhf_reinforce'],
    [{ train_mode: 'ftpo' }, 'ftpo'],
  ])('%j -> %s', (options, method) => {
    const { body } = runRequestFromYamlConfig({ ...base, ...options });
    expect(body.method).toBe(method);
    expect(body).not.toHaveProperty('train_mode');
    expect(parseRunRequest(body).request.method).toBe(method);
  });

  it('method beside a matching train_mode is accepted', () => {
    expect(runRequestFromYamlConfig({ ...base, method: 'gspo', train_mode: 'grpo' }).body.method).toBe(
      'gspo',
    );
  });

  it('method beside a different train_mode is refused on train_mode', () => {
    const issues = issuesOf(() => runRequestFromYamlConfig({ ...base, method: 'dpo', train_mode: 'grpo' }));
    expect(issues).toEqual([
      { path: 'train_mode', message: expect.stringContaining('method dpo trains with train_mode dpo') },
    ]);
  });

  it.each([
    ['rlhf', 'did you mean rlhf_reinforce'],
    ['rlhf-reinforce', 'did you mean rlhf_reinforce'],
    ['online-dpo', 'did you mean online_dpo'],
    ['gspo', 'set train_mode: grpo with its option, or method: gspo'],
    ['lora', 'is not a train mode'],
  ])('train_mode %s is refused with a hint', (mode, hint) => {
    const issues = issuesOf(() => runRequestFromYamlConfig({ ...base, train_mode: mode }));
    expect(issues).toEqual([{ path: 'train_mode', message: expect.stringContaining(hint) }]);
  });

  it('a bad train_mode is pointed at its line', () => {
    const issues = issuesOf(() => fromYaml('model: m/x\ndata: d\niters: 2\ntrain_mode: lora\n'));
    expect(issues).toEqual([expect.objectContaining({ path: 'train_mode', line: 4 })]);
  });

  it("a variant's issue (DAPO epsilon_high not above epsilon) names method's source line, train_mode", () => {
    const issues = issuesOf(() =>
      fromYaml('model: m/x\ndata: d\niters: 2\ntrain_mode: grpo\nepsilon: 0.3\nepsilon_high: 0.2\n'),
    );
    expect(issues).toEqual([
      expect.objectContaining({
        path: 'epsilon_high',
        line: 6,
        message: expect.stringContaining('greater than epsilon'),
      }),
    ]);
  });
});

describe('keys the service sets itself', () => {
  it('adapter_path, train: true, config and upstream no-ops are ignored with a warning each', () => {
    const { body, warnings } = runRequestFromYamlConfig({
      ...base,
      adapter_path: 'adapters',
      train: true,
      config: 'x.yaml',
      list_reward_functions: false,
      reward_scaling: 1.0,
      alpha: [1e-5],
    });
    expect(body).toEqual({ method: 'sft', ...base });
    expect(paths(warnings)).toEqual([
      'adapter_path',
      'train',
      'config',
      'list_reward_functions',
      'reward_scaling',
      'alpha',
      'fuse',
    ]);
  });

  it('train: false (a test-only run) cannot be queued', () => {
    expect(issuesOf(() => runRequestFromYamlConfig({ ...base, train: false }))).toEqual([
      { path: 'train', message: expect.stringContaining('must be true') },
    ]);
  });

  it('null values mean unset, as upstream reads them', () => {
    const { body } = runRequestFromYamlConfig({
      ...base,
      resume_adapter_file: null,
      epochs: null,
      method: null,
      fuse: true,
    });
    expect(body).toEqual({ method: 'sft', ...base, fuse: true });
  });
});
