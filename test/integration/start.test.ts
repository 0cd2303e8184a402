import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';

import { freePort } from '../../src/shared/redis-server.js';
import { spawnWorker } from '../helpers/chaos.js';
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
        body: JSON.stringify({
          method: 'sft',
          model: 'mlx-community/x',
          data: path.join(TEST_DATA, 'sft-text'),
          iters: 4,
          batch_size: 2,
        }),
      });
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      const run = await waitFor(
        async () => {
          const r = (await (await fetch(`${base}/v1/runs/${id}`)).json()) as {
            status: string;
            error: string | null;
          };
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

  it('START_WORKER=false starts the control plane alone: a run waits for a worker, and a remote worker (npm run worker: compiled) trains it', async () => {
    const port = await freePort();
    const cpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-cp-alone-'));
    const workerDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-remote-'));
    const prefix = `mlxq-start-${randomBytes(4).toString('hex')}`;
    const child = execa('node', ['--import', 'tsx', 'src/main.ts'], {
      cwd: REPO_ROOT,
      env: standInEnv({
        START_WORKER: 'false',
        PORT: String(port),
        DATA_DIR: cpDir,
        REDIS_URL: redisUrl(),
        QUEUE_PREFIX: prefix,
        LOG_LEVEL: 'warn',
        ALLOWED_ROOTS: [cpDir, REPO_ROOT].join(path.delimiter),
      }),
      reject: false,
      all: true,
    });
    const base = `http://127.0.0.1:${port}`;
    const json = async <T>(url: string, init?: RequestInit) =>
      (await (await fetch(`${base}${url}`, init)).json()) as T;
    const post = (body: unknown): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    let worker: ReturnType<typeof spawnWorker> | undefined;
    try {
      await waitFor(async () => (await fetch(`${base}/readyz`).catch(() => null))?.ok ?? false, {
        timeoutMs: 90_000,
        what: 'readyz',
      });
      const { id } = await json<{ id: string }>(
        '/v1/runs',
        post({
          method: 'sft',
          model: 'mlx-community/x',
          data: path.join(TEST_DATA, 'sft-text'),
          iters: 4,
          batch_size: 2,
        }),
      );
      // No worker in this process: the run waits and says so.
      const waiting = await waitFor(
        async () => (await json<{ status: string; waiting: string | null }>(`/v1/runs/${id}`)).waiting,
        { what: 'the waiting reason' },
      );
      expect(waiting).toMatch(/no worker is running/);
      expect((await json<{ items: unknown[] }>('/v1/workers')).items).toEqual([]);
      const { token } = await json<{ token: string }>('/v1/workers', post({ name: 'mbp-remote' }));
      worker = spawnWorker({
        dataDir: workerDir,
        redisUrl: redisUrl(),
        prefix,
        env: { SERVER_URL: base, WORKER_TOKEN: token },
        compiled: true,
      });
      await worker.ready();
      const run = await waitFor(
        async () => {
          const r = await json<{ status: string; error: string | null; worker: string | null }>(
            `/v1/runs/${id}`,
          );
          return ['succeeded', 'failed'].includes(r.status) ? r : null;
        },
        { timeoutMs: 60_000, what: 'the run to end' },
      );
      expect(run.status, run.error ?? '').toBe('succeeded');
      expect(run.worker).toBe('mbp-remote');
      // The remote worker has no SQLite of its own; the control plane's folder has the adapter it uploaded.
      expect(fs.existsSync(path.join(workerDir, 'mlxq.sqlite'))).toBe(false);
      expect(fs.existsSync(path.join(cpDir, 'runs', id, 'adapters', 'adapters.safetensors'))).toBe(true);
    } finally {
      worker?.child.kill('SIGTERM');
      await worker?.exited();
      child.kill('SIGTERM');
    }
    const result = await child;
    expect(result.exitCode, result.all).toBe(0);
    fs.rmSync(cpDir, { recursive: true, force: true });
    fs.rmSync(workerDir, { recursive: true, force: true });
  }, 240_000);
});
