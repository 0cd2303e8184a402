import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createDatasetValidator,
  type DatasetReport,
  type ValidateOptions,
} from '../../src/datasets/validate-dataset.js';
import type { TrainMode } from '../../src/domain/dataset-format.js';

const DATA = path.resolve(import.meta.dirname, '../../test_data');
const fixture = (name: string): string => path.join(DATA, name);

let tmpRoot: string;
beforeAll(() => {
  tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-datasets-'));
});
afterAll(() => {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
});

let tmpCount = 0;
/** A fresh dataset directory with the given files (name -> content). */
function makeDir(files: Record<string, string | Buffer>): string {
  const dir = path.join(tmpRoot, `ds-${++tmpCount}`);
  fs.mkdirSync(dir);
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
  return dir;
}

const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const texts = (n: number, from = 0): { text: string }[] =>
  Array.from({ length: n }, (_, i) => ({ text: `document ${from + i}` }));

/** [file, line] per problem, in report order. */
const where = (report: DatasetReport): [string, number | null][] =>
  report.problems.map((p) => [p.file, p.line]);

async function validate(opts: Partial<ValidateOptions> & { dir: string }): Promise<DatasetReport> {
  return createDatasetValidator().validate({ mode: 'sft', batchSize: 4, ...opts });
}

describe('valid fixtures', () => {
  it.each<[string, TrainMode, string, number]>([
    ['sft-chat', 'sft', 'sft:chat', 10],
    ['sft-completions', 'sft', 'sft:completions', 10],
    ['sft-text', 'sft', 'sft:text', 10],
    ['dpo', 'dpo', 'preference', 10],
    ['dpo', 'cpo', 'preference', 10],
    ['orpo', 'orpo', 'orpo', 10],
    ['grpo', 'grpo', 'grpo', 12],
    ['prompts', 'online_dpo', 'prompt', 10],
    ['prompts', 'xpo', 'prompt', 10],
    ['prompts', 'ppo', 'prompt', 10],
    ['prompts', 'rlhf_reinforce', 'prompt', 10],
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

describe('directory and split checks', () => {
  it('reports a missing directory, naming the Hugging Face fallback', async () => {
    const dir = path.join(tmpRoot, 'no-such-dataset');
    const report = await validate({ dir });
    expect(report.ok).toBe(false);
    expect(where(report)).toEqual([['.', null]]);
    expect(report.problems[0]?.message).toContain('does not exist');
    expect(report.problems[0]?.message).toContain('Hugging Face');
    expect(report.splits.train.present).toBe(false);
  });

  it('reports a path that is a file, not a directory', async () => {
    const report = await validate({ dir: path.join(fixture('sft-text'), 'train.jsonl') });
    expect(where(report)).toEqual([['.', null]]);
    expect(report.problems[0]?.message).toContain('is not a directory');
  });

  it('reports an empty train.jsonl', async () => {
    const report = await validate({ dir: makeDir({ 'train.jsonl': '' }) });
    expect(where(report)).toEqual([['train.jsonl', null]]);
    expect(report.problems[0]?.message).toMatch(
      /^train\.jsonl is empty: upstream raises 'Training set not found/,
    );
  });

  it('reports train.jsonl that is a directory', async () => {
    const dir = makeDir({});
    fs.mkdirSync(path.join(dir, 'train.jsonl'));
    const report = await validate({ dir });
    expect(where(report)).toEqual([['train.jsonl', null]]);
    expect(report.problems[0]?.message).toContain('not a regular file');
  });

  it('requires test.jsonl only when needTest is set', async () => {
    expect((await validate({ dir: fixture('sft-text') })).ok).toBe(true);
    const report = await validate({ dir: fixture('sft-text'), needTest: true });
    expect(report.problems).toEqual([
      {
        file: 'test.jsonl',
        line: null,
        message:
          "test.jsonl not found: upstream raises 'Test set not found or empty. Must provide test set for evaluation.'",
      },
    ]);
  });

  it('checks a present test.jsonl even without needTest, against the train format', async () => {
    const dir = makeDir({
      'train.jsonl': jsonl(texts(4)),
      'test.jsonl': jsonl([{ text: 'ok' }, { prompt: 'p', completion: 'c' }, 'not an object']),
    });
    const report = await validate({ dir });
    expect(where(report)).toEqual([
      ['test.jsonl', 2],
      ['test.jsonl', 3],
    ]);
    expect(report.problems[0]?.message).toContain('this record is sft:completions');
    expect(report.splits.test).toMatchObject({ present: true, rows: 3 });
  });

  it('does not apply the batch size to the test split', async () => {
    const dir = makeDir({ 'train.jsonl': jsonl(texts(4)), 'test.jsonl': jsonl(texts(1)) });
    expect((await validate({ dir, needTest: true })).ok).toBe(true);
  });

  it('gives file-level problems first, then lines, in file order', async () => {
    const dir = makeDir({ 'train.jsonl': jsonl(texts(2)) + '\n', 'valid.jsonl': '{}\n' });
    const report = await validate({ dir, needTest: true });
    expect(where(report)).toEqual([
      ['train.jsonl', null],
      ['train.jsonl', 3],
      ['valid.jsonl', null],
      ['valid.jsonl', 1],
      ['test.jsonl', null],
    ]);
  });

  it('honours *_feature renames', async () => {
    const dir = makeDir({
      'train.jsonl': jsonl(Array.from({ length: 4 }, (_, i) => ({ q: `${i}+1?`, gold: i + 1 }))),
    });
    const features = { prompt_feature: 'q', answer_feature: 'gold' };
    expect((await validate({ dir, mode: 'grpo', features })).ok).toBe(true);
    const withoutRenames = await validate({ dir, mode: 'grpo' });
    expect(withoutRenames.problems[0]?.message).toMatch(/^Unsupported data format for Online GRPO training/);
  });

  it('rejects a batch size that is not a positive integer', async () => {
    await expect(validate({ dir: fixture('sft-text'), batchSize: 0 })).rejects.toThrow(RangeError);
  });
});

describe('line handling', () => {
  it('accepts CRLF line endings and a last line without a newline', async () => {
    const body = texts(4)
      .map((r) => JSON.stringify(r))
      .join('\r\n');
    const report = await validate({ dir: makeDir({ 'train.jsonl': body }) });
    expect(report.problems).toEqual([]);
    expect(report.splits.train.rows).toBe(4);
  });

  it('treats a whitespace-only line and a lone CR line as blank lines', async () => {
    const body = `${JSON.stringify({ text: 'a' })}\n   \t\n${JSON.stringify({ text: 'b' })}\n\r\n${jsonl(texts(2))}`;
    const report = await validate({ dir: makeDir({ 'train.jsonl': body }) });
    expect(where(report)).toEqual([
      ['train.jsonl', 2],
      ['train.jsonl', 4],
    ]);
    expect(report.problems.every((p) => p.message.startsWith('blank line'))).toBe(true);
  });

  it('reports a bare carriage return, where Python would split the line', async () => {
    const body = `${jsonl(texts(2))}{"text": "a",\r"extra": 1}\n${jsonl(texts(2))}`;
    const report = await validate({ dir: makeDir({ 'train.jsonl': body }) });
    expect(where(report)).toEqual([['train.jsonl', 3]]);
    expect(report.problems[0]?.message).toMatch(/^bare carriage return/);
  });

  it('reports a file with old Mac (CR-only) line endings', async () => {
    const body = texts(4)
      .map((r) => JSON.stringify(r))
      .join('\r');
    const report = await validate({ dir: makeDir({ 'train.jsonl': body }) });
    // Read as one line: too few rows, and the bare carriage return on line 1.
    expect(where(report)).toEqual([
      ['train.jsonl', null],
      ['train.jsonl', 1],
    ]);
    expect(report.problems[1]?.message).toMatch(/^bare carriage return/);
  });

  it('reports a whitespace-only final line without a newline', async () => {
    const report = await validate({ dir: makeDir({ 'train.jsonl': jsonl(texts(4)) + '  ' }) });
    expect(where(report)).toEqual([['train.jsonl', 5]]);
  });

  it('reports a byte-order mark in the middle of a file (concatenated files)', async () => {
    const body = Buffer.concat([
      Buffer.from(jsonl(texts(2))),
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(jsonl(texts(2))),
    ]);
    const report = await validate({ dir: makeDir({ 'train.jsonl': body }) });
    expect(where(report)).toEqual([['train.jsonl', 3]]);
    expect(report.problems[0]?.message).toContain('a file appended after another?');
  });

  it('accepts a literal U+FFFD character (it is valid UTF-8)', async () => {
    const report = await validate({
      dir: makeDir({ 'train.jsonl': jsonl([{ text: 'bad byte: \uFFFD' }, ...texts(3)]) }),
    });
    expect(report.ok).toBe(true);
  });

  it('explains NaN, which Python accepts but JSON does not', async () => {
    const body = `{"chosen": "a", "rejected": "b", "preference_score": NaN}\n${jsonl(Array(4).fill({ chosen: 'a', rejected: 'b' }))}`;
    const report = await validate({ dir: makeDir({ 'train.jsonl': body }), mode: 'orpo' });
    expect(where(report)).toEqual([['train.jsonl', 1]]);
    expect(report.problems[0]?.message).toContain('NaN/Infinity is not standard JSON');
  });

  it('reads lines that span read chunks, multi-byte characters split across the boundary included', async () => {
    // 1 MiB reads: a 2.5 MiB line of 3-byte characters crosses two chunk boundaries mid-character.
    const long = { text: '€'.repeat(900_000) };
    const dir = makeDir({ 'train.jsonl': jsonl([{ text: 'x' }, long, { text: 'y' }, long, { text: 'z' }]) });
    const report = await validate({ dir });
    expect(report.problems).toEqual([]);
    expect(report.splits.train.rows).toBe(5);
  });

  it('skips and reports a line over 16 MiB, keeping later line numbers right', async () => {
    const huge = JSON.stringify({ text: 'a'.repeat(17 * 1024 * 1024) });
    const dir = makeDir({ 'train.jsonl': `${jsonl(texts(2))}${huge}\n${jsonl(texts(2))}{"text": 1}\n` });
    const report = await validate({ dir });
    expect(where(report)).toEqual([
      ['train.jsonl', 3],
      ['train.jsonl', 6],
    ]);
    expect(report.problems[0]?.message).toBe('line is longer than 16 MiB and was not checked');
    expect(report.splits.train.rows).toBe(6);
  });

  it('caps the problem list at maxProblems but counts every problem', async () => {
    const dir = makeDir({ 'train.jsonl': `${jsonl(texts(1))}${'{"nope": 1}\n'.repeat(120)}` });
    const report = await validate({ dir });
    expect(report.totalProblems).toBe(120);
    expect(report.problems).toHaveLength(50);
    expect(report.problemsTruncated).toBe(true);
    expect(report.problems[49]).toMatchObject({ file: 'train.jsonl', line: 51 });

    const few = await validate({ dir, maxProblems: 5 });
    expect(few.problems).toHaveLength(5);
    expect(few.totalProblems).toBe(120);
  });

  it('keeps file-level problems when line problems are truncated', async () => {
    const dir = makeDir({ 'train.jsonl': '{"nope": 1}\n'.repeat(3) });
    const report = await validate({ dir, batchSize: 8, maxProblems: 2 });
    expect(report.totalProblems).toBe(2); // format error on line 1 + too few rows
    expect(where(report)).toEqual([
      ['train.jsonl', null],
      ['train.jsonl', 1],
    ]);
  });
});

describe('cache', () => {
  /** Rewrites a file in place with same-size content and restores its mtime: only a re-read can notice. */
  function rewriteKeepingStat(file: string, content: string): void {
    const before = fs.statSync(file);
    expect(Buffer.byteLength(content)).toBe(before.size);
    fs.writeFileSync(file, content);
    fs.utimesSync(file, before.atime, before.mtime);
    const after = fs.statSync(file);
    expect([after.size, after.mtimeMs, after.ino]).toEqual([before.size, before.mtimeMs, before.ino]);
  }

  function datasetWithRoundMtime(): { dir: string; train: string } {
    const dir = makeDir({ 'train.jsonl': jsonl(texts(4)) });
    const train = path.join(dir, 'train.jsonl');
    fs.utimesSync(train, 1_700_000_000, 1_700_000_000); // whole seconds survive utimes exactly
    return { dir, train };
  }

  const broken = (): string => jsonl(texts(4)).replace('{"text":"document 1"}', '{"text":"document 1"]');

  it('does not read an unchanged dataset again', async () => {
    const { dir, train } = datasetWithRoundMtime();
    const validator = createDatasetValidator();
    const first = await validator.validate({ dir, mode: 'sft', batchSize: 4 });
    expect(first.ok).toBe(true);
    rewriteKeepingStat(train, broken());
    const second = await validator.validate({ dir, mode: 'sft', batchSize: 4 });
    expect(second).toEqual(first); // still the cached report: the file was not read again
    // A validator without that cache entry reads the file and sees the damage.
    expect((await createDatasetValidator().validate({ dir, mode: 'sft', batchSize: 4 })).ok).toBe(false);
  });

  it('validates a file again when its mtime changes', async () => {
    const { dir, train } = datasetWithRoundMtime();
    const validator = createDatasetValidator();
    expect((await validator.validate({ dir, mode: 'sft', batchSize: 4 })).ok).toBe(true);
    rewriteKeepingStat(train, broken());
    fs.utimesSync(train, 1_700_000_100, 1_700_000_100);
    const report = await validator.validate({ dir, mode: 'sft', batchSize: 4 });
    expect(where(report)).toEqual([['train.jsonl', 2]]);
  });

  it('validates again when a split file appears, or the size changes', async () => {
    const { dir, train } = datasetWithRoundMtime();
    const validator = createDatasetValidator();
    expect((await validator.validate({ dir, mode: 'sft', batchSize: 4 })).ok).toBe(true);
    fs.writeFileSync(path.join(dir, 'valid.jsonl'), `{"text": 1}\n${jsonl(texts(3))}`);
    expect(where(await validator.validate({ dir, mode: 'sft', batchSize: 4 }))).toEqual([['valid.jsonl', 1]]);
    fs.appendFileSync(train, '\n');
    fs.utimesSync(train, 1_700_000_000, 1_700_000_000);
    expect(where(await validator.validate({ dir, mode: 'sft', batchSize: 4 }))).toEqual([
      ['train.jsonl', 5],
      ['valid.jsonl', 1],
    ]);
  });

  it('keys on the options: batch size, mode, features and needTest', async () => {
    const { dir } = datasetWithRoundMtime();
    const validator = createDatasetValidator();
    expect((await validator.validate({ dir, mode: 'sft', batchSize: 4 })).ok).toBe(true);
    expect((await validator.validate({ dir, mode: 'sft', batchSize: 5 })).ok).toBe(false);
    expect((await validator.validate({ dir, mode: 'dpo', batchSize: 4 })).ok).toBe(false);
    expect(
      (await validator.validate({ dir, mode: 'sft', batchSize: 4, features: { text_feature: 'body' } })).ok,
    ).toBe(false);
    expect((await validator.validate({ dir, mode: 'sft', batchSize: 4, needTest: true })).ok).toBe(false);
  });

  it('evicts the least recently used entry', async () => {
    const a = datasetWithRoundMtime();
    const b = datasetWithRoundMtime();
    const validator = createDatasetValidator({ cacheEntries: 1 });
    await validator.validate({ dir: a.dir, mode: 'sft', batchSize: 4 });
    await validator.validate({ dir: b.dir, mode: 'sft', batchSize: 4 }); // evicts a
    rewriteKeepingStat(a.train, broken());
    expect((await validator.validate({ dir: a.dir, mode: 'sft', batchSize: 4 })).ok).toBe(false);
  });

  it('hands out copies: mutating a report does not change the cached one', async () => {
    const validator = createDatasetValidator();
    const dir = fixture('sft-text');
    const first = await validator.validate({ dir, mode: 'sft', batchSize: 4 });
    first.problems.push({ file: 'x', line: 1, message: 'mutated' });
    first.splits.train.rows = -1;
    const second = await validator.validate({ dir, mode: 'sft', batchSize: 4 });
    expect(second.problems).toEqual([]);
    expect(second.splits.train.rows).toBe(10);
  });

  it('returns the same report to concurrent callers', async () => {
    const validator = createDatasetValidator();
    const dir = fixture('grpo');
    const [a, b] = await Promise.all([
      validator.validate({ dir, mode: 'grpo', batchSize: 4 }),
      validator.validate({ dir, mode: 'grpo', batchSize: 4 }),
    ]);
    expect(a).toEqual(b);
    expect(a.ok).toBe(true);
  });
});

describe('large files', () => {
  // Its speed and peak memory (1 GB, one child process each): bench/figures/dataset-validation.ts.
  it('validates a 50 MB file read in many chunks, counting every row and byte', async () => {
    const dir = makeDir({});
    const file = path.join(dir, 'train.jsonl');
    const record = JSON.stringify({
      messages: [
        { role: 'system', content: 'You are a helpful assistant for a bakery. Ünïcödé café 東京.' },
        { role: 'user', content: 'How long should sourdough proof at room temperature? '.repeat(3) },
        {
          role: 'assistant',
          content: 'Usually four to six hours at 24 °C, until it has grown by about half. '.repeat(5),
        },
      ],
    });
    const block = `${record}\n`.repeat(Math.ceil((1024 * 1024) / (record.length + 1)));
    const fd = fs.openSync(file, 'w');
    let size = 0;
    while (size < 50 * 1024 * 1024) size += fs.writeSync(fd, block);
    fs.closeSync(fd);
    const rows = size / Buffer.byteLength(`${record}\n`);

    const report = await validate({ dir });

    expect(report.problems).toEqual([]);
    expect(report.splits.train).toMatchObject({ rows, bytes: size });
  });
});
