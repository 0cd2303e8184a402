import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { RequestValidationError } from '../../src/domain/errors.js';
import { parseRunRequest } from '../../src/domain/run-request.js';
import { type LinedIssue, parseYamlBody, withYamlLines } from '../../src/domain/yaml-body.js';
import { runRequestFromYamlConfig } from '../../src/domain/yaml-config.js';

const CONFIGS = fileURLToPath(new URL('../../test_data/configs/', import.meta.url));
const readConfig = (name: string) => fs.readFileSync(path.join(CONFIGS, name), 'utf8');

const base = { model: 'mlx-community/Qwen2.5-0.5B-Instruct-4bit', data: './test_data/grpo', iters: 10 };

/** YAML text -> run request, the way the API does it (issues pointed at lines). */
function fromYaml(text: string) {
  const { value, source } = parseYamlBody(text);
  try {
    const { body, warnings } = runRequestFromYamlConfig(value);
    return { ...parseRunRequest(body), yamlWarnings: warnings };
  } catch (e) {
    throw e instanceof RequestValidationError ? withYamlLines(e, source) : e;
  }
}

function issuesOf(fn: () => unknown): LinedIssue[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RequestValidationError);
    return (e as RequestValidationError).issues;
  }
  throw new Error('expected a validation error');
}

const paths = (ws: { path: string }[]) => ws.map((w) => w.path);

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

describe('unknown and unsupported keys are still refused, each named with its line', () => {
  it('a typo, an mlx_lm name, a Hugging Face dataset and a key for another method', () => {
    const text = [
      'model: mlx-community/x', // 1
      'data: ./test_data/sft-chat', // 2
      'iters: 10', // 3
      'wand: mlx-project', // 4
      'fine_tune_type: lora', // 5
      'hf_dataset:', // 6
      '  path: billsum', // 7
      'group_size: 8', // 8
      'lora_parameters:', // 9
      '  rank: 0', // 10
    ].join('\n');
    const issues = issuesOf(() => fromYaml(text));
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: 'wand',
          line: 4,
          message: expect.stringContaining('did you mean wandb'),
        }),
        expect.objectContaining({
          path: 'fine_tune_type',
          line: 5,
          message: expect.stringContaining('train_type'),
        }),
        expect.objectContaining({
          path: 'hf_dataset',
          line: 6,
          message: expect.stringContaining('local directories'),
        }),
        expect.objectContaining({
          path: 'group_size',
          line: 8,
          message: expect.stringContaining('does not apply to method sft'),
        }),
        expect.objectContaining({ path: 'lora_parameters.rank', line: 10 }),
      ]),
    );
    expect(issues).toHaveLength(5);
  });

  it('the test file with a misspelt key', () => {
    const issues = issuesOf(() => fromYaml(readConfig('bad/unknown-key.yaml')));
    expect(issues).toEqual([
      { path: 'learning_rat', line: 7, message: expect.stringContaining('did you mean learning_rate') },
    ]);
  });
});

describe('warnings where the service and `mlx_lm_lora.train -c` differ', () => {
  it('a YAML value upstream ignores for its command-line default is applied, with a note', () => {
    const { warnings } = runRequestFromYamlConfig({
      ...base,
      train_mode: 'grpo',
      group_size: 8,
      temperature: 1.0,
      fuse: false,
    });
    expect(warnings).toEqual([
      { path: 'group_size', message: expect.stringContaining('ignores this YAML key and uses 4') },
    ]);
  });

  it('lora_parameters.keys (an mlx_lm key) is dropped; other sub-keys still validated', () => {
    const { body, warnings } = runRequestFromYamlConfig({
      ...base,
      fuse: false,
      lora_parameters: { keys: ['q_proj'], rank: 4 },
    });
    expect(body.lora_parameters).toEqual({ rank: 4 });
    expect(warnings).toEqual([
      { path: 'lora_parameters.keys', message: expect.stringContaining('only rank, dropout and scale') },
    ]);
  });
});

describe('YAML parsing as upstream (PyYAML SafeLoader plus the float resolver)', () => {
  it('1e-5 is a float, yes/on are booleans, y and n stay strings, ~ is null, anchors and merges work', () => {
    const { value } = parseYamlBody(
      'a: 1e-5\nb: yes\nc: on\nd: y\ne: n\nf: ~\nx: &x {rank: 4}\nlora_parameters:\n  <<: *x\n  scale: 2\n',
    );
    expect(value).toEqual({
      a: 1e-5,
      b: true,
      c: true,
      d: 'y',
      e: 'n',
      f: null,
      x: { rank: 4 },
      lora_parameters: { rank: 4, scale: 2 },
    });
  });

  it('a syntax error names its line', () => {
    const issues = issuesOf(() => parseYamlBody('model: x\niters: [1, 2\ndata: d\n'));
    expect(issues[0]).toMatchObject({
      line: expect.any(Number),
      message: expect.stringMatching(/^YAML syntax error/),
    });
  });

  it('a duplicate key names its line', () => {
    expect(issuesOf(() => parseYamlBody('iters: 1\ndata: d\niters: 2\n'))[0]).toMatchObject({
      line: 3,
      message: expect.stringContaining('unique'),
    });
  });

  it('a config that is not a mapping is refused', () => {
    expect(issuesOf(() => runRequestFromYamlConfig(parseYamlBody('- a\n- b\n').value))[0]?.message).toContain(
      'mapping',
    );
    expect(issuesOf(() => runRequestFromYamlConfig(parseYamlBody('').value))[0]?.message).toContain(
      'mapping',
    );
  });
});
