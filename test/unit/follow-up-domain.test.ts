// Follow-up jobs, pure parts: request schemas, the rules per method and model, the argv builders and output parsers.
import { describe, expect, it } from 'vitest';

import { RequestValidationError } from '../../src/domain/errors.js';
import {
  convertArgv,
  fuseArgv,
  generateArgv,
  loraTestArgv,
  trainerTestArgv,
} from '../../src/domain/follow-up-commands.js';
import {
  parseGenerateOutput,
  parseLoraTestOutput,
  parseTrainerTestOutput,
  testBatches,
} from '../../src/domain/follow-up-output.js';
import { parseFollowUpList, parseFollowUpRequest } from '../../src/domain/follow-up-request.js';
import {
  checkFollowUp,
  evaluationTool,
  type FollowUpFacts,
  fuseDiskEstimate,
  ggufWriterBroken,
  shouldDequantize,
} from '../../src/domain/follow-up-rules.js';

function issues(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (e instanceof RequestValidationError) return e.issues;
    throw e;
  }
  throw new Error('expected a RequestValidationError');
}

const LLAMA: FollowUpFacts = {
  method: 'sft',
  trainType: 'lora',
  modelType: 'llama',
  quantization: { bits: 4, group_size: 64 },
  mlxLmVersion: '0.32.0',
};

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

describe('follow-up commands', () => {
  it('builds each argv', () => {
    expect(generateArgv({ python: 'py', model: 'M', adapterPath: 'A', prompt: '-x', maxTokens: 9 })).toEqual([
      'py',
      '-m',
      'mlx_lm',
      'generate',
      '--model',
      'M',
      '--adapter-path',
      'A',
      '--prompt=-x',
      '--max-tokens',
      '9',
      '--temp',
      '0',
    ]);
    expect(
      fuseArgv({
        python: 'py',
        model: 'M',
        adapterPath: 'A',
        savePath: 'S',
        dequantize: true,
        exportGguf: true,
      }),
    ).toEqual([
      'py',
      '-m',
      'mlx_lm',
      'fuse',
      '--model',
      'M',
      '--adapter-path',
      'A',
      '--save-path',
      'S',
      '--dequantize',
      '--export-gguf',
    ]);
    expect(convertArgv({ python: 'py', model: 'F', mlxPath: 'Q', bits: 4, groupSize: 64 })).toEqual([
      'py',
      '-m',
      'mlx_lm',
      'convert',
      '--model',
      'F',
      '--mlx-path',
      'Q',
      '-q',
      '--q-bits',
      '4',
      '--q-group-size',
      '64',
    ]);
    expect(
      loraTestArgv({
        python: 'py',
        model: 'M',
        adapterPath: '',
        data: 'D',
        batchSize: 1,
        testBatches: -1,
        maskPrompt: true,
      }),
    ).toEqual([
      'py',
      '-m',
      'mlx_lm',
      'lora',
      '--model',
      'M',
      '--adapter-path',
      '',
      '--data',
      'D',
      '--test',
      '--batch-size',
      '1',
      '--test-batches',
      '-1',
      '--seed',
      '0',
      '--mask-prompt',
    ]);
  });

  it('turns a training argv into a test-only one on a copy of the adapters', () => {
    const train = [
      'py',
      '-m',
      'mlx_lm_lora.train',
      '--train',
      '--train-mode',
      'dpo',
      '--model',
      'M',
      '--data',
      'D',
      '--batch-size',
      '4',
      '--beta',
      '0.1',
      '--adapter-path',
      'run/adapters',
      '-c',
      'run/config.yaml',
    ];
    const tail = ['--test', '--adapter-path=job/adapters', '--data=E', '--batch-size=1', '--test-batches=-1'];
    expect(
      trainerTestArgv(train, { adapterPath: 'job/adapters', data: 'E', batchSize: 1, testBatches: -1 }),
    ).toEqual([
      'py',
      '-m',
      'mlx_lm_lora.train',
      '--train-mode',
      'dpo',
      '--model',
      'M',
      '--beta',
      '0.1',
      '-c',
      'run/config.yaml',
      ...tail,
    ]);
    // The service's own form, one argument per value.
    const joined = [
      'py',
      '-m',
      'mlx_lm_lora.train',
      '--train',
      '--train-mode=dpo',
      '--model=M',
      '--data=D',
      '--batch-size=4',
      '--delta=-1e-7',
      '--adapter-path=run/adapters',
      '--config=run/config.yaml',
    ];
    expect(
      trainerTestArgv(joined, { adapterPath: 'job/adapters', data: 'E', batchSize: 1, testBatches: -1 }),
    ).toEqual([
      'py',
      '-m',
      'mlx_lm_lora.train',
      '--train-mode=dpo',
      '--model=M',
      '--delta=-1e-7',
      '--config=run/config.yaml',
      ...tail,
    ]);
  });
});

describe('follow-up output parsers', () => {
  it('parses generate from the end, text with "=" and a wired warning', () => {
    const out =
      '==========\n[WARNING] Generating with a model that requires 9 MB which is close to the maximum recommended size of 10 MB. This can be slow.\na = b\n==========\nPrompt: 12 tokens, 100.500 tokens-per-sec\nGeneration: 4 tokens, 80.250 tokens-per-sec\nPeak memory: 1.234 GB\n';
    expect(parseGenerateOutput(out)).toEqual({
      text: 'a = b',
      promptTokens: 12,
      promptTps: 100.5,
      generationTokens: 4,
      generationTps: 80.25,
      peakMemoryGb: 1.234,
    });
    expect(parseGenerateOutput('==========\n\n==========\nNo text generated for this prompt\n')?.text).toBe(
      '',
    );
    expect(parseGenerateOutput('Traceback')).toBeNull();
  });

  it('parses both test reports', () => {
    expect(
      parseLoraTestOutput('Loading pretrained model\nTesting\nTest loss 1.500, Test ppl 4.482.\n'),
    ).toEqual({ test_loss: 1.5, test_ppl: 4.482 });
    expect(
      parseTrainerTestOutput(
        '\x1b[1mTest Results:\x1b[0m\n  \x1b[93mLoss:\x1b[0m 0.693\n  \x1b[93mPerplexity:\x1b[0m 2.000\n',
      ),
    ).toEqual({ test_loss: 0.693, test_ppl: 2 });
    expect(parseTrainerTestOutput('FTPO Test loss: 0.500\n')?.test_loss).toBe(0.5);
    expect(testBatches(10, 4, -1)).toBe(2);
    expect(testBatches(10, 1, 3)).toBe(3);
  });
});
