import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

import { freePort } from '../../src/shared/redis-server.js';
import { redisUrl, REPO_ROOT, standInEnv, TEST_DATA } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-start-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describe('npm start', () => {
  it('serves the API and trains with its worker, then shuts down cleanly on SIGTERM', async () => {
    const port = await freePort();
    const child = execa('node', ['--import', 'tsx', 'src/main.ts'], {
      cwd: REPO_ROOT,
      env: standInEnv({
        PORT: String(port),
        DATA_DIR: dataDir,
        REDIS_URL: redisUrl(),
        QUEUE_PREFIX: `mlxq-start-${randomBytes(4).toString('hex')}`,
        LOG_LEVEL: 'warn',
        ALLOWED_ROOTS: [dataDir, REPO_ROOT].join(path.delimiter),
      }),
      reject: false,
      all: true,
    });
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitFor(async () => (await fetch(`${base}/readyz`)).ok, { timeoutMs: 60_000, what: 'readyz' });
      const res = await fetch(`${base}/v1/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ method: 'sft', model: 'mlx-community/x', data: path.join(TEST_DATA, 'sft-text'), iters: 4, batch_size: 2 }),
      });
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      const run = await waitFor(
        async () => {
          const r = (await (await fetch(`${base}/v1/runs/${id}`)).json()) as { status: string; error: string | null };
          return ['succeeded', 'failed'].includes(r.status) ? r : null;
        },
        { timeoutMs: 30_000, what: 'the run to end' },
      );
      expect(run.status, run.error ?? '').toBe('succeeded');
      expect(fs.existsSync(path.join(dataDir, 'mlxq.sqlite'))).toBe(true);
    } finally {
      child.kill('SIGTERM');
    }
    const result = await child;
    expect(result.exitCode, result.all).toBe(0);
  });
});
