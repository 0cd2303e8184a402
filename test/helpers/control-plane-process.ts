// The control plane as a process of its own (`node --import tsx src/api/server.ts`) that a test can stop and
// start again on the same port and DATA_DIR, and talk to over real HTTP.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { execa, type ResultPromise } from 'execa';

import { freePort } from '../../src/shared/redis-server.js';
import { redisUrl, REPO_ROOT } from './test-env.js';
import { waitFor } from './wait-for.js';

export interface ControlPlaneProcess {
  url: string;
  dataDir: string;
  prefix: string;
  start(): Promise<void>;
  /** SIGKILL: the control plane vanishes as in a crash or a cut network. */
  kill(): Promise<void>;
  http<T = unknown>(
    method: string,
    urlPath: string,
    body?: unknown,
    token?: string,
  ): Promise<{ status: number; json: T; text: string }>;
  cleanup(): Promise<void>;
}

export async function startControlPlane(env: Record<string, string> = {}): Promise<ControlPlaneProcess> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-cp-'));
  const prefix = `mlxq-test-${randomBytes(6).toString('hex')}`;
  const url = `http://127.0.0.1:${port}`;
  let child: ResultPromise | undefined;
  let out = '';
  const start = async () => {
    out = '';
    child = execa('node', ['--import', 'tsx', 'src/api/server.ts'], {
      cwd: REPO_ROOT,
      env: {
        PORT: String(port),
        DATA_DIR: dataDir,
        REDIS_URL: redisUrl(),
        QUEUE_PREFIX: prefix,
        LOG_LEVEL: 'warn',
        ALLOWED_ROOTS: [dataDir, REPO_ROOT].join(path.delimiter),
        ...env,
      },
      reject: false,
      all: true,
      buffer: false,
    });
    child.all?.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(
      async () =>
        (await fetch(`${url}/healthz`).catch(() => null))?.ok ??
        (child?.exitCode != null ? Promise.reject(new Error(out)) : false),
      {
        // Starting means transpiling the API's import graph (tsx): on a loaded 2-core machine that can take a minute.
        timeoutMs: 90_000,
        what: 'the control plane to answer',
      },
    );
  };
  const kill = async () => {
    if (!child) return;
    child.kill('SIGKILL');
    await child;
    child = undefined;
  };
  await start();
  return {
    url,
    dataDir,
    prefix,
    start,
    kill,
    async http<T>(method: string, urlPath: string, body?: unknown, token?: string) {
      const headers: Record<string, string> =
        body === undefined ? {} : { 'content-type': 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await fetch(`${url}${urlPath}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, json: json as T, text };
    },
    async cleanup() {
      await kill();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
