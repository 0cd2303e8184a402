// A remote worker's view of a run's data: an upload (`dataset:<sha256>`) comes from its cache (downloaded from the
// control plane on a miss); a path must exist on this Mac, which needs shared storage, and fails with that reason.
import fs from 'node:fs/promises';
import path from 'node:path';

import { RequestValidationError } from '../../domain/errors.js';
import type { DatasetCache } from './dataset-cache.js';

const UPLOAD = /^dataset:([0-9a-f]{64})$/;

export function createRemoteDataResolver(cache: DatasetCache, workerName: string) {
  return async function resolveData(data: string): Promise<string> {
    const m = UPLOAD.exec(data);
    if (m) return (await cache.get(m[1]!)).dir;
    const dir = path.resolve(data);
    const st = await fs.stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) {
      throw new RequestValidationError([
        {
          path: 'data',
          message: `${dir} is not a folder on worker ${workerName}: a path works in a fleet only on shared storage; upload the dataset (POST /v1/datasets) and submit dataset:<sha256> instead`,
        },
      ]);
    }
    return dir;
  };
}
