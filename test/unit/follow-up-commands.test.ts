// Follow-up jobs, pure parts: the argv builders of the follow-up tools and their output parsers.
import { describe, expect, it } from 'vitest';

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
