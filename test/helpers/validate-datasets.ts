// What the dataset validator's tests share: test_data fixtures, fresh dataset folders in a temporary root, JSONL
// rows, and a validate() with the defaults the tests assume (sft, batch size 4).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll } from 'vitest';

import {
  createDatasetValidator,
  type DatasetReport,
  type ValidateOptions,
} from '../../src/datasets/validate-dataset.js';

const DATA = path.resolve(import.meta.dirname, '../../test_data');
export const fixture = (name: string): string => path.join(DATA, name);

export const jsonl = (rows: unknown[]): string => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
export const texts = (n: number, from = 0): { text: string }[] =>
  Array.from({ length: n }, (_, i) => ({ text: `document ${from + i}` }));

/** [file, line] per problem, in report order. */
export const where = (report: DatasetReport): [string, number | null][] =>
  report.problems.map((p) => [p.file, p.line]);

export async function validate(opts: Partial<ValidateOptions> & { dir: string }): Promise<DatasetReport> {
  return createDatasetValidator().validate({ mode: 'sft', batchSize: 4, ...opts });
}

export interface DatasetDirs {
  /** A fresh dataset directory with the given files (name -> content). */
  makeDir: (files: Record<string, string | Buffer>) => string;
  /** A path inside the temporary root that nothing has created. */
  tmpPath: (name: string) => string;
}

/** Registers a temporary root for the file's datasets: made before its tests, removed after them. */
export function useDatasetDirs(): DatasetDirs {
  let tmpRoot = '';
  let tmpCount = 0;
  beforeAll(() => {
    tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-datasets-'));
  });
  afterAll(() => {
    fs.rmSync(tmpRoot, { recursive: true, force: true });
  });
  return {
    makeDir: (files) => {
      const dir = path.join(tmpRoot, `ds-${++tmpCount}`);
      fs.mkdirSync(dir);
      for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
      return dir;
    },
    tmpPath: (name) => path.join(tmpRoot, name),
  };
}
