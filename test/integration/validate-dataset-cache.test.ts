// The dataset validator's report cache: what it keys on (file stats, options), eviction, copies and concurrent
// callers.
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { createDatasetValidator } from '../../src/datasets/validate-dataset.js';
import { fixture, jsonl, texts, useDatasetDirs, where } from '../helpers/validate-datasets.js';

const { makeDir } = useDatasetDirs();

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
