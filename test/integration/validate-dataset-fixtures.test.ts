// The dataset validator on the test_data fixtures: every valid format per train mode, and each broken fixture
// reported with its file, line and upstream's reason.
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import type { TrainMode } from '../../src/domain/dataset-format.js';
import { fixture, jsonl, texts, useDatasetDirs, validate, where } from '../helpers/validate-datasets.js';

const { makeDir } = useDatasetDirs();

describe('valid fixtures', () => {
  it.each<[string, TrainMode, string, number]>([
    ['sft-chat', 'sft', 'sft:chat', 10],
    ['sft-completions', 'sft', 'sft:completions', 10],
    ['sft-text', 'sft', 'sft:text', 10],
    ['dpo', 'dpo', 'preference', 10],
    ['dpo', 'cpo', 'preference', 10],
    ['orpo', 'orpo', 'orpo', 10],
    ['grpo', 'grpo', 'grpo', 12],
    // The four prompt-only modes read the same fixture.
    ...(['online_dpo', 'xpo', 'ppo', 'rlhf_reinforce'] as const).map(
      (mode): [string, TrainMode, string, number] => ['prompts', mode, 'prompt', 10],
    ),
    ['ftpo', 'ftpo', 'ftpo', 10],
  ])('test_data/%s validates for %s as %s', async (name, mode, format, trainRows) => {
    const dir = fixture(name);
    const report = await validate({ dir, mode, batchSize: 4 });
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ ok: true, dir, mode, format, totalProblems: 0, problemsTruncated: false });
    expect(report.splits.train).toEqual({
      file: 'train.jsonl',
      present: true,
      rows: trainRows,
      bytes: fs.statSync(path.join(dir, 'train.jsonl')).size,
    });
    expect(report.splits.valid).toMatchObject({ present: true, rows: 4 });
    expect(report.splits.test).toEqual({ file: 'test.jsonl', present: false, rows: 0, bytes: 0 });
  });

  it('rejects a fixture under a mode whose format it does not have', async () => {
    const report = await validate({ dir: fixture('sft-chat'), mode: 'dpo' });
    expect(report.ok).toBe(false);
    expect(report.format).toBeNull();
    expect(where(report)).toEqual([
      ['train.jsonl', 1],
      ['valid.jsonl', 1],
    ]);
    expect(report.problems[0]?.message).toMatch(/^Unsupported data format for Online DPO or CPO training\./);
  });

  it('flags grpo records without an answer when the dpo fixture is used for grpo', async () => {
    const report = await validate({ dir: fixture('dpo'), mode: 'grpo' });
    expect(report.format).toBe('grpo');
    expect(report.totalProblems).toBe(14);
    expect(report.problems[0]).toEqual({ file: 'train.jsonl', line: 1, message: 'missing key "answer"' });
  });
});

describe('broken fixtures', () => {
  it('reports a blank line in the middle and a trailing double newline', async () => {
    const report = await validate({ dir: fixture('bad/blank-line') });
    expect(where(report)).toEqual([
      ['train.jsonl', 5],
      ['train.jsonl', 10],
    ]);
    expect(report.problems[0]?.message).toMatch(/^blank line: upstream's json.loads raises JSONDecodeError/);
    expect(report.splits.train.rows).toBe(8);
  });

  it('reports a byte-order mark on line 1 and still checks the record', async () => {
    const report = await validate({ dir: fixture('bad/bom') });
    expect(where(report)).toEqual([['train.jsonl', 1]]);
    expect(report.problems[0]?.message).toContain('byte-order mark at the start of the file');
    expect(report.format).toBe('sft:completions');
  });

  it('reports records whose format differs from the first record, in train and valid', async () => {
    const report = await validate({ dir: fixture('bad/mixed-format') });
    expect(report.format).toBe('sft:chat');
    expect(report.problems).toEqual([
      {
        file: 'train.jsonl',
        line: 4,
        message:
          'record format differs from the first record (sft:chat): this record is sft:text (missing key "messages")',
      },
      {
        file: 'train.jsonl',
        line: 7,
        message:
          'record format differs from the first record (sft:chat): this record is sft:completions (missing key "messages")',
      },
      {
        file: 'valid.jsonl',
        line: 2,
        message:
          'record format differs from the first record of train.jsonl (sft:chat): this record is sft:text (missing key "messages")',
      },
    ]);
  });

  it('explains the old GRPO format once per file', async () => {
    const report = await validate({ dir: fixture('bad/old-grpo-format'), mode: 'grpo' });
    expect(where(report)).toEqual([
      ['train.jsonl', 1],
      ['valid.jsonl', 1],
    ]);
    const message = report.problems[0]?.message ?? '';
    expect(message).toMatch(/^Unsupported data format for Online GRPO training\./);
    expect(message).toContain('use prompt / answer / system instead');
  });

  it.each<[TrainMode, RegExp]>([
    ['dpo', /upstream's batch iterator yields no batches and dpo training hangs forever$/],
    ['cpo', /upstream's batch iterator yields no batches and cpo training hangs forever$/],
    ['orpo', /upstream raises 'Dataset must have at least batch_size=4 examples but only has 3\.'$/],
  ])('reports too few rows for batch size 4 in %s mode', async (mode, message) => {
    const report = await validate({ dir: fixture('bad/too-few-rows'), mode, batchSize: 4 });
    expect(where(report)).toEqual([
      ['train.jsonl', null],
      ['valid.jsonl', null],
    ]);
    expect(report.problems[0]?.message).toMatch(message);
    expect(report.problems[0]?.message).toMatch(/^train\.jsonl has 3 rows/);
    expect(report.problems[1]?.message).toMatch(/^valid\.jsonl has 2 rows/);
  });

  it.each<[TrainMode, unknown[], string]>([
    ['sft', texts(2), "upstream raises 'Dataset must have at least batch_size=4 examples but only has 2.'"],
    [
      'grpo',
      [{ prompt: 'p', answer: '1' }],
      "upstream raises 'Dataset must have at least batch_size=4 examples but only has 1.'",
    ],
    ['ppo', [{ prompt: 'p' }], 'ppo training hangs forever'],
    ['online_dpo', [{ prompt: 'p' }], 'online_dpo training hangs forever'],
    ['xpo', [{ prompt: 'p' }], 'xpo training hangs forever'],
    ['rlhf_reinforce', [{ prompt: 'p' }], 'rlhf_reinforce training hangs forever'],
    [
      'ftpo',
      [{ context_with_chat_template: 'c', rejected_decoded: ' a', multi_chosen_decoded: [' b'] }],
      'FTPO dataset must contain at least batch_size=4 rows',
    ],
  ])('names what upstream does with too few rows in %s mode', async (mode, rows, message) => {
    const report = await validate({ dir: makeDir({ 'train.jsonl': jsonl(rows) }), mode, batchSize: 4 });
    expect(where(report)).toEqual([['train.jsonl', null]]);
    expect(report.problems[0]?.message).toContain(message);
  });

  it('accepts the too-few-rows fixture with batch size 2', async () => {
    const report = await validate({ dir: fixture('bad/too-few-rows'), mode: 'dpo', batchSize: 2 });
    expect(report.ok).toBe(true);
  });

  it('reports each damaged line of a dpo file with the reason', async () => {
    const report = await validate({ dir: fixture('bad/invalid-lines'), mode: 'dpo' });
    expect(where(report)).toEqual([
      ['train.jsonl', 2],
      ['train.jsonl', 3],
      ['train.jsonl', 4],
      ['train.jsonl', 5],
      ['train.jsonl', 6],
      ['train.jsonl', 7],
    ]);
    const messages = report.problems.map((p) => p.message);
    expect(messages[0]).toMatch(/^invalid JSON: Expected double-quoted property name at column \d+$/);
    expect(messages[1]).toContain('two records on one line?');
    expect(messages[2]).toBe('not a JSON object (got a list); each line must be one {...} record');
    expect(messages[3]).toBe('"prompt" must be a string (got number)');
    expect(messages[4]).toBe('missing key "rejected"');
    expect(messages[5]).toContain('single quotes?');
    expect(report.splits.train.rows).toBe(10);
  });

  it('reports invalid UTF-8 with its line', async () => {
    const report = await validate({ dir: fixture('bad/invalid-utf8') });
    expect(report.problems).toEqual([
      {
        file: 'train.jsonl',
        line: 3,
        message: 'invalid UTF-8: upstream raises UnicodeDecodeError while reading the file',
      },
    ]);
  });

  it('reports an existing but empty valid.jsonl (upstream indexes its first record)', async () => {
    const report = await validate({ dir: fixture('bad/empty-valid') });
    expect(where(report)).toEqual([['valid.jsonl', null]]);
    expect(report.problems[0]?.message).toContain('IndexError');
    expect(report.splits.valid).toEqual({ file: 'valid.jsonl', present: true, rows: 0, bytes: 0 });
  });

  it('reports a missing train.jsonl with upstream’s message', async () => {
    const report = await validate({ dir: fixture('bad/missing-train') });
    expect(report.problems).toEqual([
      {
        file: 'train.jsonl',
        line: null,
        message:
          "train.jsonl not found: upstream raises 'Training set not found or empty. Must provide training set for fine-tuning.'",
      },
    ]);
    expect(report.format).toBeNull();
  });
});
