// Follow-up jobs, pure parts: request schemas and the rules per method and model.
import { describe, expect, it } from 'vitest';

import { parseFollowUpList, parseFollowUpRequest } from '../../src/domain/follow-up-request.js';
import {
  checkFollowUp,
  evaluationTool,
  fuseDiskEstimate,
  ggufWriterBroken,
  shouldDequantize,
} from '../../src/domain/follow-up-rules.js';
import { issues, LLAMA } from '../helpers/follow-up-facts.js';

describe('follow-up requests', () => {
  it('fills the defaults of each kind', () => {
    expect(parseFollowUpRequest({ kind: 'evaluate' })).toEqual({
      kind: 'evaluate',
      test_batches: -1,
      batch_size: 1,
    });
    expect(parseFollowUpRequest({ kind: 'samples' })).toEqual({
      kind: 'samples',
      count: 5,
      split: 'valid',
      max_tokens: 256,
    });
    expect(parseFollowUpRequest({ kind: 'fuse' })).toEqual({
      kind: 'fuse',
      dequantize: 'auto',
      verify: { count: 3, max_tokens: 64 },
    });
    expect(parseFollowUpRequest({ kind: 'fuse', verify: false })).toMatchObject({ verify: false });
    expect(parseFollowUpRequest({ kind: 'export', format: 'mlx' })).toEqual({
      kind: 'export',
      format: 'mlx',
      bits: 4,
      group_size: 64,
    });
  });

  it.each([
    [{ kind: 'train' }, 'kind'],
    [{ kind: 'samples', prompts: [] }, 'prompts'],
    [{ kind: 'samples', prompts: Array(51).fill('x') }, 'prompts'],
    [{ kind: 'samples', prompts: ['-'] }, 'prompts.0'],
    [{ kind: 'evaluate', test_batches: 0 }, 'test_batches'],
    [{ kind: 'evaluate', data: '--help' }, 'data'],
    [{ kind: 'fuse', dequantize: 'yes' }, 'dequantize'],
    [{ kind: 'fuse', verify: { max_tokens: 0 } }, 'verify.max_tokens'],
    [{ kind: 'export', format: 'onnx' }, 'format'],
    [{ kind: 'export', format: 'mlx', bits: 5 }, 'bits'],
    [{ kind: 'export', format: 'ollama', name: '../x' }, 'name'],
    [{ kind: 'evaluate', extra: 1 }, ''],
  ])('refuses %j naming %s', (body, path) => {
    const found = issues(() => parseFollowUpRequest(body));
    expect(found.map((i) => i.path)).toContain(path || 'kind');
  });

  it('names the list index in after/best_after', () => {
    expect(
      issues(() =>
        parseFollowUpList([{ kind: 'evaluate' }, { kind: 'samples', max_tokens: -1 }], 'after'),
      )[0]!.path,
    ).toBe('after.1.max_tokens');
    expect(issues(() => parseFollowUpList({}, 'best_after'))[0]!.path).toBe('best_after');
  });
});

describe('follow-up rules', () => {
  it('evaluates SFT with mlx_lm lora --test and the working modes with mlx_lm_lora.train --test', () => {
    expect(evaluationTool('sft', 'lora')).toEqual({ tool: 'mlx_lm' });
    for (const m of ['dpo', 'cpo', 'ftpo', 'online_dpo', 'xpo', 'ppo'] as const)
      expect(evaluationTool(m, 'lora')).toEqual({ tool: 'mlx_lm_lora' });
  });

  it.each([
    ['grpo', 'iterate_batches'],
    ['dapo', 'iterate_batches'],
    ['orpo', 'seq_step_size'],
    ['rlhf_reinforce', 'too many values to unpack'],
  ] as const)('refuses to evaluate %s with the upstream crash', (method, text) => {
    const found = issues(() =>
      checkFollowUp({ kind: 'evaluate', test_batches: -1, batch_size: 1 }, { ...LLAMA, method }),
    );
    expect(found[0]).toMatchObject({ path: 'kind' });
    expect(found[0]!.message).toContain(text);
  });

  it('refuses DoRA and full fine-tunes for fuse, samples and export, with the reasons', () => {
    const fuse = { kind: 'fuse', dequantize: 'auto', verify: false } as const;
    expect(issues(() => checkFollowUp(fuse, { ...LLAMA, trainType: 'dora' }))[0]!.message).toContain(
      'incompatible tensors',
    );
    expect(issues(() => checkFollowUp(fuse, { ...LLAMA, trainType: 'full' }))[0]!.message).toContain(
      'not an adapter',
    );
    expect(
      issues(() =>
        checkFollowUp(
          { kind: 'samples', count: 1, split: 'valid', max_tokens: 8 },
          { ...LLAMA, trainType: 'dora' },
        ),
      ),
    ).toHaveLength(1);
  });

  it('GGUF: only llama, mistral, mixtral, and not on the broken mlx-lm versions', () => {
    const gguf = { kind: 'export', format: 'gguf', bits: 4, group_size: 64 } as const;
    expect(() => checkFollowUp(gguf, LLAMA)).not.toThrow();
    expect(() => checkFollowUp(gguf, { ...LLAMA, modelType: 'mixtral' })).not.toThrow();
    const qwen = issues(() => checkFollowUp(gguf, { ...LLAMA, modelType: 'qwen2' }, 'after.0'))[0]!;
    expect(qwen.path).toBe('after.0.format');
    expect(qwen.message).toContain('qwen2');
    expect(qwen.message).toContain('llama, mistral, mixtral');
    const old = issues(() => checkFollowUp(gguf, { ...LLAMA, mlxLmVersion: '0.31.3' }))[0]!;
    expect(old.message).toContain('0.31.3');
    expect(old.message).toContain('llama, mistral, mixtral');
    expect(issues(() => checkFollowUp(gguf, { ...LLAMA, modelType: null }))[0]!.message).toContain(
      'cannot tell the model type',
    );
    expect([
      ggufWriterBroken('0.25.0'),
      ggufWriterBroken('0.25.1'),
      ggufWriterBroken('0.31.3'),
      ggufWriterBroken('0.32.0'),
    ]).toEqual([false, true, true, false]);
  });

  it('dequantizes automatically only a quantized base, and estimates the disk it needs', () => {
    expect(shouldDequantize('auto', { bits: 4, group_size: 64 })).toBe(true);
    expect(shouldDequantize('auto', null)).toBe(false);
    expect(shouldDequantize(false, { bits: 4, group_size: 64 })).toBe(false);
    expect(fuseDiskEstimate(450, { bits: 4, group_size: 64 }, true)).toBe(1600);
    expect(fuseDiskEstimate(450, { bits: 4, group_size: 64 }, false)).toBe(450);
  });
});
