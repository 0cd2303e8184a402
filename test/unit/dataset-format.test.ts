// Which dataset format upstream sees in a split (detectFormat), the records after the first, and a sample record per format.
import { describe, expect, it } from 'vitest';

import {
  checkFollowingRecord,
  checkRecord,
  DATASET_FORMATS,
  detectFormat,
  sampleRecord,
  TRAIN_MODES,
  type TrainMode,
} from '../../src/domain/dataset-format.js';
import { chat, errorOf, OLD_GRPO } from '../helpers/dataset-records.js';

describe('detectFormat', () => {
  it.each<[TrainMode, Record<string, unknown>, string]>([
    ['sft', { prompt: 'p', completion: 'c' }, 'sft:completions'],
    ['sft', { messages: chat }, 'sft:chat'],
    ['sft', { text: 'doc' }, 'sft:text'],
    ['dpo', { prompt: 'p', chosen: 'a', rejected: 'b' }, 'preference'],
    ['cpo', { prompt: 'p', chosen: 'a', rejected: 'b' }, 'preference'],
    ['orpo', { chosen: 'a', rejected: 'b' }, 'orpo'],
    ['grpo', { prompt: 'p', answer: '4' }, 'grpo'],
    ['online_dpo', { prompt: 'p' }, 'prompt'],
    ['xpo', { prompt: 'p' }, 'prompt'],
    ['rlhf_reinforce', { prompt: 'p' }, 'prompt'],
    ['ppo', { prompt: chat }, 'prompt'],
    [
      'ftpo',
      { context_with_chat_template: 'c', rejected_decoded: ' a', multi_chosen_decoded: [' b'] },
      'ftpo',
    ],
  ])('%s reads %j as %s', (mode, record, format) => {
    expect(detectFormat(mode, record)).toEqual({ format });
  });

  it('tries sft prompt/completion before messages, and messages before text', () => {
    expect(detectFormat('sft', { prompt: 'p', completion: 'c', messages: chat, text: 't' })).toEqual({
      format: 'sft:completions',
    });
    expect(detectFormat('sft', { messages: chat, text: 't' })).toEqual({ format: 'sft:chat' });
    expect(detectFormat('sft', { prompt: 'p', text: 't' })).toEqual({ format: 'sft:text' });
  });

  it('decides by key presence only, like upstream (types are checkRecord’s job)', () => {
    expect(detectFormat('sft', { text: null })).toEqual({ format: 'sft:text' });
    expect(detectFormat('dpo', { chosen: 1, rejected: 2 })).toEqual({ format: 'preference' });
    expect(detectFormat('grpo', { prompt: 'p' })).toEqual({ format: 'grpo' });
  });

  it.each<[TrainMode, string]>([
    ['sft', 'Unsupported data format for SFT training.'],
    ['dpo', 'Unsupported data format for Online DPO or CPO training.'],
    ['cpo', 'Unsupported data format for Online DPO or CPO training.'],
    ['orpo', 'Unsupported data format for ORPO training.'],
    ['grpo', 'Unsupported data format for Online GRPO training.'],
    ['online_dpo', 'Unsupported data format for RLHF training.'],
    ['xpo', 'Unsupported data format for RLHF training.'],
    ['rlhf_reinforce', 'Unsupported data format for RLHF training.'],
    ['ppo', 'Unsupported data format for RLHF training.'],
    ['ftpo', 'Unsupported data format for FTPO training.'],
  ])('%s rejects an unusable first record with upstream’s message', (mode, upstream) => {
    const error = errorOf(detectFormat(mode, { foo: 1, bar: 2 }));
    expect(error.startsWith(upstream)).toBe(true);
    expect(error).toContain('the record has keys: foo, bar');
  });

  it('rejects dpo and orpo records that have only one of chosen/rejected', () => {
    expect(errorOf(detectFormat('dpo', { prompt: 'p', chosen: 'a' }))).toMatch(
      /^Unsupported data format for Online DPO/,
    );
    expect(errorOf(detectFormat('orpo', { prompt: 'p', rejected: 'b' }))).toMatch(
      /^Unsupported data format for ORPO/,
    );
  });

  it('rejects ftpo records missing any of its three keys', () => {
    expect(
      errorOf(detectFormat('ftpo', { context_with_chat_template: 'c', rejected_decoded: ' a' })),
    ).toContain('"multi_chosen_decoded"');
  });

  it('hints at prompt / answer / system for the old GRPO format', () => {
    const error = errorOf(detectFormat('grpo', OLD_GRPO));
    expect(error).toMatch(/^Unsupported data format for Online GRPO training\./);
    expect(error).toContain('old GRPO format (problem / reasoning_steps / solution)');
    expect(error).toContain('use prompt / answer / system instead');
  });

  it('names the old GRPO format in other modes too, without telling sft to use answer', () => {
    const error = errorOf(detectFormat('sft', { problem: 'x', solution: 'y' }));
    expect(error).toContain('old GRPO format');
    expect(error).not.toContain('use prompt / answer / system instead');
  });

  it('gives no old-GRPO hint for unrelated keys', () => {
    expect(errorOf(detectFormat('grpo', { question: 'q' }))).not.toContain('old GRPO');
  });

  it('honours *_feature renames and then ignores the default key names', () => {
    expect(detectFormat('sft', { body: 'doc' }, { text_feature: 'body' })).toEqual({ format: 'sft:text' });
    expect(errorOf(detectFormat('sft', { text: 'doc' }, { text_feature: 'body' }))).toContain('"body"');
    expect(detectFormat('sft', { conv: chat }, { chat_feature: 'conv' })).toEqual({ format: 'sft:chat' });
    expect(detectFormat('sft', { q: 'p', a: 'c' }, { prompt_feature: 'q', completion_feature: 'a' })).toEqual(
      { format: 'sft:completions' },
    );
    expect(
      detectFormat('dpo', { good: 'a', bad: 'b' }, { chosen_feature: 'good', rejected_feature: 'bad' }),
    ).toEqual({
      format: 'preference',
    });
    expect(detectFormat('grpo', { question: 'q' }, { prompt_feature: 'question' })).toEqual({
      format: 'grpo',
    });
    expect(detectFormat('ppo', { instruction: 'q' }, { prompt_feature: 'instruction' })).toEqual({
      format: 'prompt',
    });
  });

  it('treats an undefined rename as the default key', () => {
    expect(detectFormat('sft', { text: 'doc' }, { text_feature: undefined })).toEqual({ format: 'sft:text' });
  });
});

describe('checkFollowingRecord', () => {
  it('accepts a record of the first record’s format', () => {
    expect(checkFollowingRecord('sft', 'sft:chat', { messages: chat })).toBeNull();
  });

  it('says the format differs when the record is a valid record of another format', () => {
    expect(checkFollowingRecord('sft', 'sft:chat', { text: 'doc' })).toBe(
      'record format differs from the first record (sft:chat): this record is sft:text (missing key "messages")',
    );
    expect(checkFollowingRecord('sft', 'sft:text', { prompt: 'p', completion: 'c' })).toBe(
      'record format differs from the first record (sft:text): this record is sft:completions (missing key "text")',
    );
  });

  it('uses the given reference in the message', () => {
    expect(
      checkFollowingRecord('sft', 'sft:chat', { text: 'doc' }, undefined, 'the first record of train.jsonl'),
    ).toMatch(/^record format differs from the first record of train\.jsonl \(sft:chat\)/);
  });

  it('reports the plain problem when the record is broken rather than of another format', () => {
    expect(checkFollowingRecord('sft', 'sft:chat', { messages: [] })).toContain(
      '"messages" must be a non-empty list',
    );
    expect(checkFollowingRecord('sft', 'sft:chat', { text: 5 })).toBe('missing key "messages"');
    expect(checkFollowingRecord('dpo', 'preference', { prompt: 'p', chosen: 'a' })).toBe(
      'missing key "rejected"',
    );
  });
});

describe('sampleRecord', () => {
  it.each(TRAIN_MODES)('gives a %s record that its own mode accepts', (mode) => {
    const record = sampleRecord(mode);
    const detected = detectFormat(mode, record);
    expect('format' in detected).toBe(true);
    if ('format' in detected) {
      expect(DATASET_FORMATS).toContain(detected.format);
      expect(checkRecord(detected.format, record)).toBeNull();
    }
  });

  it('returns a fresh object on every call', () => {
    const a = sampleRecord('ftpo');
    (a.multi_chosen_decoded as string[]).push('mutated');
    a.extra = 1;
    expect(sampleRecord('ftpo')).not.toHaveProperty('extra');
    expect(sampleRecord('ftpo').multi_chosen_decoded).toEqual([' quite', ' rather']);
  });

  it('covers all ten train modes', () => {
    expect([...TRAIN_MODES].sort()).toEqual(
      ['cpo', 'dpo', 'ftpo', 'grpo', 'online_dpo', 'orpo', 'ppo', 'rlhf_reinforce', 'sft', 'xpo'].sort(),
    );
  });
});
