// The dataset validator's checks of the folder and its split files: a missing or wrong path, empty or missing
// splits, test.jsonl, the order of problems, *_feature renames and the batch size.
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { fixture, jsonl, texts, useDatasetDirs, validate, where } from '../helpers/validate-datasets.js';

const { makeDir, tmpPath } = useDatasetDirs();

describe('directory and split checks', () => {
  it('reports a missing directory, naming the Hugging Face fallback', async () => {
    const dir = tmpPath('no-such-dataset');
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
