// checkRecord: each record against its format, with upstream's KeyError or ValueError for what is missing or wrong.
import { describe, expect, it } from 'vitest';

import { checkRecord } from '../../src/domain/dataset-format.js';
import { chat, OLD_GRPO } from '../helpers/dataset-records.js';

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
