// The trainer-output parser across lines: GRPO report blocks (whole, cut, interleaved with tqdm), tqdm fragments,
// the known total, the mlx_lm train wording, checkpoint paths and look-alike lines.
import { describe, expect, it } from 'vitest';

import { createTrainerOutputParser } from '../../src/domain/trainer-output.js';
import { fixture, GRPO_BLOCK_10, metrics, parseAll, progress } from '../helpers/trainer-output-cases.js';

describe('createTrainerOutputParser: blocks and streams', () => {
  const grpo = fixture('grpo.txt');
  const blockLines = grpo
    .slice(grpo.indexOf('='.repeat(80)))
    .split('\n')
    .slice(0, 24);

  it('fixture block runs from the opening to the closing 80-"=" line', () => {
    expect([blockLines[0], blockLines[23]]).toEqual(['='.repeat(80), '='.repeat(80)]);
  });

  it('emits a GRPO block at its closing line, before the next line is seen', () => {
    const parser = createTrainerOutputParser();
    const events = blockLines.flatMap((line) => parser.push(line));
    expect(events).toEqual([GRPO_BLOCK_10, progress(10, null)]);
    expect(parser.end()).toEqual([]);
  });

  it('flushes a cut GRPO block when the next block starts', () => {
    const parser = createTrainerOutputParser();
    const cut = ['Iter 10:', 'Loss: 1.500', 'Iter 20:', 'Loss: 2.500', '='.repeat(80)];
    expect(cut.flatMap((line) => parser.push(line))).toEqual([
      metrics(10, 'train', { loss: 1.5 }),
      progress(10, null),
      metrics(20, 'train', { loss: 2.5 }),
      progress(20, null),
    ]);
  });

  it('flushes a cut GRPO block before a later report or error line', () => {
    const lines = ['Iter 10:', 'Loss: 1.500', 'Iter 11: Val loss 1.000, Val took 2.000s', 'KeyError: x'];
    expect(parseAll(lines.join('\n'))).toEqual([
      metrics(10, 'train', { loss: 1.5 }),
      progress(10, null),
      metrics(11, 'val', { loss: 1, time_s: 2 }),
      { kind: 'error', message: 'KeyError: x' },
    ]);
  });

  it('keeps a GRPO block open across a tqdm redraw from a merged stderr', () => {
    const lines = [
      'Iter 10:',
      'Loss: 1.500',
      '\rTraining:  10%|█         | 10/100 [00:10<01:30]',
      'Memory: 2.000GB',
    ];
    expect(parseAll(lines.join('\n'))).toEqual([
      progress(10, 100),
      metrics(10, 'train', { loss: 1.5, peak_memory_gb: 2 }),
      progress(10, 100),
    ]);
  });

  it('accepts tqdm fragments, bars without a total, and redraws split mid-line', () => {
    const parser = createTrainerOutputParser();
    const events = [
      ...parser.push('Training: 7it [00:03,  2.10it/s]'),
      ...parser.push('Trainin'),
      ...parser.push('g:  50%|█████     | 50/100 [00:25<00:25,  2.00it/s]'),
      ...parser.push('  '),
      ...parser.push('Training:  60%|██████    | 60/100 [00:30<00:20,  2.00it/s]\x1b[K'),
    ];
    expect(events).toEqual([progress(7, null), progress(60, 100)]);
  });

  it('uses the known total for train reports after a bar has shown it', () => {
    const parser = createTrainerOutputParser();
    parser.push('Training:  10%|█         | 10/100 [00:10<01:30]');
    expect(parser.push('Iter 10: loss 1.000, lr 1.000e-05')).toEqual([
      metrics(10, 'train', { loss: 1, learning_rate: 1e-5 }),
      progress(10, 100),
    ]);
  });

  it('parses the mlx_lm train wording (no accuracy or rewards column)', () => {
    const line =
      'Iter 10: Train loss 1.234, Learning Rate 1.000e-05, It/sec 0.500, Tokens/sec 100.000, Trained Tokens 400, Peak mem 3.000 GB';
    expect(parseAll(line)).toEqual([
      metrics(10, 'train', {
        loss: 1.234,
        learning_rate: 1e-5,
        it_per_sec: 0.5,
        tokens_per_sec: 100,
        trained_tokens: 400,
        peak_memory_gb: 3,
      }),
      progress(10, null),
    ]);
  });

  it('splits checkpoint paths that contain " and "', () => {
    const line =
      'Iter 5: Saved adapter weights to a and b/adapters.safetensors and a and b/0000005_adapters.safetensors.';
    expect(parseAll(line)).toEqual([
      {
        kind: 'checkpoint',
        iteration: 5,
        adapterFile: 'a and b/adapters.safetensors',
        checkpointFile: 'a and b/0000005_adapters.safetensors',
      },
    ]);
  });

  it('ignores look-alike lines', () => {
    const lines = [
      'Iter 5: loss is going down',
      'Iter x: loss 1.000',
      'Iter 5:oops',
      'Learning Rate: 1e-05',
      'Loss: 1.000',
      '  accuracies: 0.500',
      'Saved final weights to ',
      'Error loading custom reward functions: boom',
      'UserWarning: something',
      'Training: done',
      '[INFO] Loading datasets',
      '[SUCCESS] Using custom reward functions: a, b',
      '',
    ];
    expect(parseAll(lines.join('\n'))).toEqual([]);
  });
});
