// The check an upload gets: with a method, the dataset check of that method (422 naming file and line, nothing
// stored); without one, the JSONL itself.
import { describe, expect, it } from 'vitest';

import { dataFile, datasetUploads } from '../helpers/dataset-uploads.js';
import { useTestEnv } from '../helpers/use-test-env.js';

const env = useTestEnv({}, { perFile: true });
const { upload, storeEntries } = datasetUploads(env);

describe('checking uploads', () => {
  it('with a method, runs the dataset check for it: 422 naming file and line, nothing stored', async () => {
    const res = await upload([
      dataFile('train', 'bad/invalid-lines'),
      dataFile('valid', 'bad/invalid-lines'),
      { name: 'method', content: 'dpo' },
    ]);
    expect(res.statusCode, res.body).toBe(422);
    const json = res.json();
    expect(json.error).toBe('invalid_dataset');
    expect(json.problems[0]).toMatchObject({
      file: expect.stringMatching(/\.jsonl$/),
      line: expect.any(Number),
    });
    expect(json.report.dir).toBe('upload');
    expect(storeEntries().incoming).toEqual([]);
  });

  it('with a method, refuses records of another format (sft chat uploaded for dpo)', async () => {
    const res = await upload([dataFile('train'), { name: 'method', content: 'dpo' }]);
    expect(res.statusCode).toBe(422);
    expect(res.json().problems[0]).toMatchObject({ file: 'train.jsonl', line: 1 });
  });

  it('without a method, checks the JSONL itself: blank lines, BOM, bad JSON, non-objects, empty files', async () => {
    const train = '{"a":1}\n\n[1,2]\n{"b":\n\uFEFF{"c":3}\n';
    const res = await upload([
      { name: 'train.jsonl', filename: 'train.jsonl', content: train },
      { name: 'test.jsonl', filename: 'test.jsonl', content: '' },
    ]);
    expect(res.statusCode, res.body).toBe(422);
    const problems = res.json().problems as { file: string; line: number | null; message: string }[];
    expect(problems.map((p) => [p.file, p.line])).toEqual([
      ['train.jsonl', 2],
      ['train.jsonl', 3],
      ['train.jsonl', 4],
      ['train.jsonl', 5],
      ['test.jsonl', null],
    ]);
    expect(problems[0]!.message).toMatch(/blank line/);
    expect(problems[3]!.message).toMatch(/byte-order mark/);
  });

  it('without a method, accepts JSONL of any record shape', async () => {
    const res = await upload([dataFile('train', 'dpo')]);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().files).toEqual(['train.jsonl']);
  });
});
