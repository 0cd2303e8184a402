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

const chat = [
  { role: 'user', content: 'hi' },
  { role: 'assistant', content: 'hello' },
];
const OLD_GRPO = { problem: 'What is 2+2?', reasoning_steps: ['2+2=4'], solution: '4' };

function errorOf(result: { format: string } | { error: string }): string {
  if (!('error' in result)) throw new Error(`expected an error, got format ${result.format}`);
  return result.error;
}

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

describe('checkRecord', () => {
  it.each<[string, Record<string, unknown>]>([
    ['sft:completions', { prompt: 'p', completion: 'c', extra: 1 }],
    ['sft:chat', { messages: chat }],
    ['sft:chat', { messages: chat, tools: [{ type: 'function', function: { name: 'f' } }] }],
    ['sft:chat', { messages: chat, tools: null }],
    [
      'sft:chat',
      {
        messages: [
          { role: 'user', content: 'weather?' },
          { role: 'assistant', content: null, tool_calls: [{ id: '1' }] },
          { role: 'tool', content: 'sunny' },
        ],
      },
    ],
    ['sft:text', { text: '' }],
    ['preference', { prompt: 'p', chosen: 'a', rejected: 'b' }],
    ['preference', { system: 's', prompt: 'p', chosen: 'a', rejected: 'b' }],
    ['orpo', { chosen: 'a', rejected: 'b' }],
    ['orpo', { question: 'q', chosen: 'a', rejected: 'b', preference_score: 1 }],
    ['orpo', { prompt: 'p', chosen: { content: 'a' }, rejected: { messages: chat } }],
    ['orpo', { prompt: 'p', system: 's', chosen: chat, rejected: 'b', preference_score: 0.25 }],
    ['grpo', { prompt: 'p', answer: '4' }],
    ['grpo', { prompt: 'p', answer: 4, system: 's', type: { anything: true } }],
    ['prompt', { prompt: 'p' }],
    ['prompt', { prompt: chat }],
    ['ftpo', { context_with_chat_template: 'c', rejected_decoded: ' a', multi_chosen_decoded: [' b', ' c'] }],
  ])('accepts a valid %s record %j', (format, record) => {
    expect(checkRecord(format, record)).toBeNull();
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['sft:completions', { completion: 'c' }, 'missing key "prompt"'],
    ['sft:completions', { prompt: 'p' }, 'missing key "completion"'],
    ['sft:completions', { prompt: 7, completion: 'c' }, '"prompt" must be a string (got number)'],
    ['sft:completions', { prompt: 'p', completion: null }, '"completion" must be a string (got null)'],
    ['sft:chat', { text: 't' }, 'missing key "messages"'],
    [
      'sft:chat',
      { messages: 'hi' },
      '"messages" must be a non-empty list of {role, content} objects (got string)',
    ],
    [
      'sft:chat',
      { messages: [] },
      '"messages" must be a non-empty list of {role, content} objects (got empty list)',
    ],
    ['sft:chat', { messages: ['hi'] }, '"messages[0]" must be a {role, content} object (got string)'],
    ['sft:chat', { messages: [{ content: 'hi' }] }, '"messages[0].role" must be a string (got undefined)'],
    [
      'sft:chat',
      { messages: [{ role: 1, content: 'hi' }] },
      '"messages[0].role" must be a string (got number)',
    ],
    [
      'sft:chat',
      { messages: [chat[0], { role: 'assistant' }] },
      '"messages[1].content" must be a string (got no content key)',
    ],
    [
      'sft:chat',
      { messages: [chat[0], { role: 'assistant', content: null }] },
      '"messages[1].content" must be a string (got null)',
    ],
    [
      'sft:chat',
      { messages: [{ role: 'user', content: ['a'] }] },
      '"messages[0].content" must be a string (got list)',
    ],
    ['sft:chat', { messages: chat, tools: 'f' }, '"tools" must be a list of objects (got string)'],
    ['sft:chat', { messages: chat, tools: ['f'] }, '"tools" must be a list of objects (got list)'],
    ['sft:text', { body: 't' }, 'missing key "text"'],
    ['sft:text', { text: ['t'] }, '"text" must be a string (got list)'],
    ['preference', { chosen: 'a', rejected: 'b' }, 'missing key "prompt"'],
    ['preference', { prompt: 'p', rejected: 'b' }, 'missing key "chosen"'],
    ['preference', { prompt: 'p', chosen: 'a' }, 'missing key "rejected"'],
    [
      'preference',
      { prompt: 'p', chosen: { content: 'a' }, rejected: 'b' },
      '"chosen" must be a string (got object)',
    ],
    [
      'preference',
      { prompt: 'p', chosen: 'a', rejected: '', system: 1 },
      '"system" must be a string (got number)',
    ],
    ['orpo', { rejected: 'b' }, 'missing key "chosen"'],
    ['orpo', { chosen: 'a' }, 'missing key "rejected"'],
    ['orpo', { prompt: 5, chosen: 'a', rejected: 'b' }, '"prompt" must be a string (got number)'],
    ['orpo', { question: [], chosen: 'a', rejected: 'b' }, '"question" must be a string (got empty list)'],
    [
      'orpo',
      { chosen: 3, rejected: 'b' },
      '"chosen" must be a string, a list of {role, content} objects, or an object',
    ],
    [
      'orpo',
      { chosen: {}, rejected: 'b' },
      '"chosen" object must have "messages" (a list) or "content" (a string)',
    ],
    [
      'orpo',
      { chosen: 'a', rejected: [] },
      '"rejected" must be a non-empty list of {role, content} objects (got empty list)',
    ],
    ['orpo', { chosen: { messages: 'x' }, rejected: 'b' }, '"chosen.messages" must be a non-empty list'],
    ['orpo', { chosen: [{ role: 'assistant' }], rejected: 'b' }, '"chosen[0].content" must be a string'],
    ['orpo', { chosen: 'a', rejected: 'b', system: null }, '"system" must be a string (got null)'],
    [
      'orpo',
      { chosen: 'a', rejected: 'b', preference_score: '0.8' },
      '"preference_score" must be a number (got string)',
    ],
    [
      'orpo',
      { chosen: 'a', rejected: 'b', preference_score: null },
      '"preference_score" must be a number (got null)',
    ],
    ['grpo', { answer: '4' }, 'missing key "prompt"'],
    ['grpo', { prompt: 'p' }, 'missing key "answer"'],
    ['grpo', { prompt: ['p'], answer: '4' }, '"prompt" must be a string (got list)'],
    ['grpo', { prompt: 'p', answer: null }, '"answer" must be a string or a number (got null)'],
    ['grpo', { prompt: 'p', answer: ['4'] }, '"answer" must be a string or a number (got list)'],
    ['grpo', { prompt: 'p', answer: '4', system: {} }, '"system" must be a string (got object)'],
    ['prompt', { question: 'q' }, 'missing key "prompt"'],
    [
      'prompt',
      { prompt: 5 },
      '"prompt" must be a string or a non-empty list of {role, content} objects (got number)',
    ],
    [
      'prompt',
      { prompt: null },
      '"prompt" must be a string or a non-empty list of {role, content} objects (got null)',
    ],
    [
      'prompt',
      { prompt: [] },
      '"prompt" must be a non-empty list of {role, content} objects (got empty list)',
    ],
    ['prompt', { prompt: ['hi'] }, '"prompt[0]" must be a {role, content} object (got string)'],
    [
      'ftpo',
      { rejected_decoded: ' a', multi_chosen_decoded: [' b'] },
      'missing key "context_with_chat_template"',
    ],
    [
      'ftpo',
      { context_with_chat_template: 'c', multi_chosen_decoded: [' b'] },
      'missing key "rejected_decoded"',
    ],
    [
      'ftpo',
      { context_with_chat_template: 'c', rejected_decoded: ' a' },
      'missing key "multi_chosen_decoded"',
    ],
    [
      'ftpo',
      { context_with_chat_template: '', rejected_decoded: ' a', multi_chosen_decoded: [' b'] },
      '"context_with_chat_template" must not be empty (upstream drops the row silently)',
    ],
    [
      'ftpo',
      { context_with_chat_template: 'c', rejected_decoded: '', multi_chosen_decoded: [' b'] },
      '"rejected_decoded" must not be empty',
    ],
    [
      'ftpo',
      { context_with_chat_template: 'c', rejected_decoded: 1, multi_chosen_decoded: [' b'] },
      '"rejected_decoded" must be a string (got number)',
    ],
    [
      'ftpo',
      { context_with_chat_template: 'c', rejected_decoded: ' a', multi_chosen_decoded: ' b' },
      '"multi_chosen_decoded" must be a non-empty list of strings (got string)',
    ],
    [
      'ftpo',
      { context_with_chat_template: 'c', rejected_decoded: ' a', multi_chosen_decoded: [] },
      '"multi_chosen_decoded" must be a non-empty list of strings (got empty list); upstream drops the row silently',
    ],
    [
      'ftpo',
      { context_with_chat_template: 'c', rejected_decoded: ' a', multi_chosen_decoded: [' b', 2] },
      '"multi_chosen_decoded" must be a list of strings (item 1 is number)',
    ],
  ])('rejects a %s record %j', (format, record, message) => {
    expect(checkRecord(format, record)).toContain(message);
  });

  it('names renamed keys in its messages', () => {
    const features = { prompt_feature: 'question', answer_feature: 'gold', system_feature: 'sys' };
    expect(checkRecord('grpo', { question: 'q', gold: '1', sys: 's' }, features)).toBeNull();
    expect(checkRecord('grpo', { question: 'q' }, features)).toBe('missing key "gold"');
    expect(checkRecord('grpo', { question: 'q', gold: '1', sys: 2 }, features)).toBe(
      '"sys" must be a string (got number)',
    );
    expect(
      checkRecord(
        'orpo',
        { c: 'a', r: 'b', score: 'x' },
        {
          chosen_feature: 'c',
          rejected_feature: 'r',
          preference_score_feature: 'score',
        },
      ),
    ).toBe('"score" must be a number (got string)');
  });

  it('adds the old-GRPO hint to a missing-key message when problem/solution keys are present', () => {
    const message = checkRecord('grpo', { prompt: 'p', solution: '4' });
    expect(message).toMatch(/^missing key "answer" This looks like the old GRPO format/);
    expect(checkRecord('grpo', OLD_GRPO)).toContain('use prompt / answer / system instead');
  });

  it('rejects an unknown format name', () => {
    expect(checkRecord('sft:yaml', { text: 't' })).toBe('unknown dataset format "sft:yaml"');
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
