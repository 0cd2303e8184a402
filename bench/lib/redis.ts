// The benchmark's own Redis: REDIS_URL when set, else a redis-server on a free loopback port without persistence.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { sleep } from './stats.js';

export interface BenchRedis {
  url: string;
  /** 'REDIS_URL' or 'spawned redis-server'. */
  origin: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.createConnection(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export async function startRedis(envUrl: string | undefined): Promise<BenchRedis> {
  if (envUrl) return { url: envUrl, origin: 'REDIS_URL', stop: async () => undefined };
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-bench-redis-'));
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: 'ignore' },
  );
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  // Even when the benchmark dies (an exception, a closed stdout), its Redis and files go with it.
  const onExit = () => {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const deadline = Date.now() + 10_000;
  while (!(await answers(port))) {
    if (spawnError)
      throw new Error(`REDIS_URL is not set and redis-server could not start: ${spawnError.message}`);
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`redis-server did not listen on ${port}`);
    await sleep(20);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    origin: 'spawned redis-server (no persistence)',
    async stop() {
      process.off('exit', onExit);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
