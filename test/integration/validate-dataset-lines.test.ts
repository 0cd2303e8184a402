// The dataset validator reading lines: line endings, blank lines, byte-order marks, NaN, lines across read chunks,
// over-long lines, the cap on listed problems, and a 50 MB file.
import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { jsonl, texts, useDatasetDirs, validate, where } from '../helpers/validate-datasets.js';

const { makeDir } = useDatasetDirs();

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
