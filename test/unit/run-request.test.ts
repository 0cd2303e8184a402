import { describe, expect, it } from 'vitest';

import { RequestValidationError } from '../../src/domain/errors.js';
import { METHODS } from '../../src/domain/methods.js';
import { parseRunRequest } from '../../src/domain/run-request.js';

const base = { model: 'mlx-community/Qwen2.5-0.5B-Instruct-4bit', data: './test_data/grpo', iters: 10 };
const judge = { judge: 'mlx-community/Qwen2.5-1.5B-Instruct-4bit' };
const minimal: Record<string, Record<string, unknown>> = {
  dapo: { epsilon_high: 0.28 },
  online_dpo: judge,
  xpo: judge,
  ppo: judge,
  rlhf_reinforce: judge,
};

function issuesOf(body: unknown) {
  try {
    parseRunRequest(body);
  } catch (e) {
    expect(e).toBeInstanceOf(RequestValidationError);
    return (e as RequestValidationError).issues;
  }
  throw new Error('expected a validation error');
}

describe('parseRunRequest accepts', () => {
  it.each(METHODS)('a minimal %s request', (method) => {
    const { request, warnings } = parseRunRequest({ method, ...base, ...minimal[method] });
    expect(request.method).toBe(method);
    expect(request.fuse).toBe(false);
    expect(request.tags).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it('epochs instead of iters', () => {
    const { request } = parseRunRequest({ method: 'sft', model: 'm/x', data: 'd', epochs: 2 });
    expect(request.epochs).toBe(2);
  });

  it('reward functions as a comma string and weights as a bracketed string', () => {
    const { request } = parseRunRequest({
      method: 'grpo',
      ...base,
      reward_functions: 'r1_accuracy_reward_func, r1_count_xml',
      reward_weights: '[0.7,0.3]',
    });
    expect(request.reward_functions).toEqual(['r1_accuracy_reward_func', 'r1_count_xml']);
    expect(request.reward_weights).toEqual([0.7, 0.3]);
  });

  it('custom reward names when a reward_functions_file is given', () => {
    const { request } = parseRunRequest({
      method: 'grpo',
      ...base,
      reward_functions: ['my_reward'],
      reward_functions_file: 'rewards.py',
    });
    expect(request.reward_functions).toEqual(['my_reward']);
  });

  it('YAML-only keys', () => {
    const { request } = parseRunRequest({
      method: 'sft',
      ...base,
      lora_parameters: { rank: 16, dropout: 0.05, scale: 20 },
      lr_schedule: { name: 'cosine_decay', arguments: [1e-5, 1000], warmup: 10 },
      optimizer_config: { adamw: { weight_decay: 0.01 } },
      prompt_feature: 'question',
    });
    expect(request.lora_parameters).toEqual({ rank: 16, dropout: 0.05, scale: 20 });
  });
});

describe('parseRunRequest warns, without rejecting, outside recommended ranges', () => {
  it.each([
    ['group_size', 32],
    ['temperature', 1.5],
    ['epsilon', 0.05],
    ['max_completion_length', 4096],
  ])('%s = %s', (key, value) => {
    const { warnings } = parseRunRequest({ method: 'grpo', ...base, [key]: value });
    expect(warnings).toEqual([
      expect.objectContaining({ path: key, message: expect.stringContaining('recommended') }),
    ]);
  });
});

describe('parseRunRequest rejects, naming the field', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['a body that is not an object', [] as unknown as Record<string, unknown>, '', /JSON object/],
    ['a missing method', { ...base }, 'method', /required/],
    ['an unknown method', { method: 'rlhf', ...base }, 'method', /not a method/],
    ['a missing model', { method: 'sft', data: 'd', iters: 1 }, 'model', /./],
    ['a missing data', { method: 'sft', model: 'm/x', iters: 1 }, 'data', /./],
    [
      'neither iters nor epochs',
      { method: 'sft', model: 'm/x', data: 'd' },
      'iters',
      /exactly one of iters or epochs/,
    ],
    ['both iters and epochs', { method: 'sft', ...base, epochs: 1 }, 'epochs', /exactly one/],
    [
      'group_size on sft',
      { method: 'sft', ...base, group_size: 4 },
      'group_size',
      /does not apply to method sft/,
    ],
    ['temperature on dpo', { method: 'dpo', ...base, temperature: 0.7 }, 'temperature', /does not apply/],
    ['beta on ftpo', { method: 'ftpo', ...base, beta: 0.1 }, 'beta', /does not apply/],
    [
      'an unknown key',
      { method: 'sft', ...base, learning_rat: 1e-5 },
      'learning_rat',
      /unknown option; did you mean learning_rate/,
    ],
    ['a dashed key', { method: 'sft', ...base, 'batch-size': 4 }, 'batch-size', /did you mean batch_size/],
    ['alpha', { method: 'xpo', ...base, ...judge, alpha: 0.5 }, 'alpha', /broken upstream/],
    [
      'list_reward_functions',
      { method: 'grpo', ...base, list_reward_functions: true },
      'list_reward_functions',
      /does nothing upstream/,
    ],
    ['reward_scaling', { method: 'orpo', ...base, reward_scaling: 2 }, 'reward_scaling', /unused/],
    ['adapter_path', { method: 'sft', ...base, adapter_path: 'x' }, 'adapter_path', /own folder/],
    ['train_mode', { method: 'sft', ...base, train_mode: 'sft' }, 'train_mode', /set method instead/],
    ['group_size 1', { method: 'grpo', ...base, group_size: 1 }, 'group_size', /2/],
    ['a fractional group_size', { method: 'grpo', ...base, group_size: 2.5 }, 'group_size', /integer/],
    ['temperature 0', { method: 'grpo', ...base, temperature: 0 }, 'temperature', /0/],
    ['a string iters', { method: 'sft', ...base, iters: '10' }, 'iters', /number/],
    [
      'a bad choice',
      { method: 'grpo', ...base, grpo_loss_type: 'ppo' },
      'grpo_loss_type',
      /grpo|bnpo|dr_grpo/,
    ],
    [
      'an unknown reward function',
      { method: 'grpo', ...base, reward_functions: ['accuracy_reward'] },
      'reward_functions',
      /unknown reward function "accuracy_reward"/,
    ],
    [
      'a duplicate reward function',
      { method: 'grpo', ...base, reward_functions: 'r1_count_xml,r1_count_xml' },
      'reward_functions',
      /twice/,
    ],
    [
      'weights that do not match',
      { method: 'grpo', ...base, reward_functions: ['r1_count_xml'], reward_weights: [1, 2] },
      'reward_weights',
      /2 weight\(s\) for 1/,
    ],
    [
      'weights for the default set',
      { method: 'grpo', ...base, reward_weights: [1] },
      'reward_weights',
      /five built-ins/,
    ],
    ['dapo without epsilon_high', { method: 'dapo', ...base }, 'epsilon_high', /required/],
    [
      'dapo with epsilon_high <= epsilon',
      { method: 'dapo', ...base, epsilon: 0.2, epsilon_high: 0.1 },
      'epsilon_high',
      /greater than epsilon/,
    ],
    [
      'gspo at token level',
      { method: 'gspo', ...base, importance_sampling_level: 'token' },
      'importance_sampling_level',
      /sequence/,
    ],
    [
      'dr_grpo with the grpo loss',
      { method: 'dr_grpo', ...base, grpo_loss_type: 'bnpo' },
      'grpo_loss_type',
      /dr_grpo/,
    ],
    ['a judge mode without judge', { method: 'ppo', ...base }, 'judge', /required/],
    ['judge human', { method: 'online_dpo', ...base, judge: 'human' }, 'judge', /human/],
    ['test on sft (broken upstream)', { method: 'sft', ...base, test: true }, 'test', /crashes/],
    [
      'two quantizations',
      { method: 'sft', ...base, load_in_4bits: true, load_in_8bits: true },
      'load_in_4bits',
      /at most one/,
    ],
    [
      'lm_studio_name without fuse',
      { method: 'sft', ...base, lm_studio_name: 'x' },
      'lm_studio_name',
      /fuse/,
    ],
    [
      'a data value that reads as a flag',
      { method: 'sft', ...base, data: '--help' },
      'data',
      /begin with "-"/,
    ],
    ['a model with a newline', { method: 'sft', ...base, model: 'a\nb' }, 'model', /line breaks/],
    [
      'an unknown lora parameter',
      { method: 'sft', ...base, lora_parameters: { rank: 8, keys: ['q'] } },
      'lora_parameters',
      /keys/,
    ],
    ['a priority out of range', { method: 'sft', ...base, priority: 1000 }, 'priority', /100/],
    ['NaN-like learning rate', { method: 'sft', ...base, learning_rate: -1 }, 'learning_rate', /0/],
  ];
  it.each(cases)('%s', (_name, body, path, message) => {
    const issues = issuesOf(body);
    const match = issues.find((i) => i.path === path);
    expect(match, JSON.stringify(issues)).toBeDefined();
    expect(`${match!.path} ${match!.message}`).toMatch(message);
  });

  it('reports every problem at once', () => {
    const issues = issuesOf({
      method: 'sft',
      model: 'm/x',
      data: 'd',
      group_size: 3,
      bogus: 1,
      batch_size: 0,
    });
    expect(issues.map((i) => i.path).sort()).toEqual(['batch_size', 'bogus', 'group_size', 'iters']);
  });
});
