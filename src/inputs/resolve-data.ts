// Turns a request's `data` into a directory: a local path, or an uploaded dataset named "dataset:<sha256>".
import fs from 'node:fs/promises';
import path from 'node:path';

import { RequestValidationError } from '../domain/errors.js';

const UPLOAD = /^dataset:([0-9a-f]{64})$/;

export function datasetsDir(dataDir: string): string {
  return path.join(dataDir, 'datasets');
}

export function createDataResolver(dataDir: string) {
  return async function resolveData(data: string): Promise<string> {
    const m = UPLOAD.exec(data);
    if (data.startsWith('dataset:') && !m) {
      throw new RequestValidationError([
        { path: 'data', message: 'an uploaded dataset is named dataset:<sha256 in hex>' },
      ]);
    }
    if (!m) return path.resolve(data);
    const dir = path.join(datasetsDir(dataDir), m[1]!);
    const st = await fs.stat(dir).catch(() => undefined);
    if (!st?.isDirectory())
      throw new RequestValidationError([{ path: 'data', message: `no uploaded dataset ${m[1]}` }]);
    return dir;
  };
}
