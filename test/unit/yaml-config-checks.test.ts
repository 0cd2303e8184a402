// mlx-lm-lora YAML configs: unknown and unsupported keys refused with their line, warnings where the service differs from mlx_lm_lora.train -c, YAML parsed as upstream.
import { describe, expect, it } from 'vitest';

import { parseYamlBody } from '../../src/domain/yaml-body.js';
import { runRequestFromYamlConfig } from '../../src/domain/yaml-config.js';
import { base, fromYaml, issuesOf, readConfig } from '../helpers/yaml-config-cases.js';

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
