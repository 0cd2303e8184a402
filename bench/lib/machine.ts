// The machine and software a benchmark run measured: OS, CPU, memory, load, package and server versions.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import Database from 'better-sqlite3';
import { Redis } from 'ioredis';

import type { BenchContext } from './context.js';
import { REPO_ROOT } from './processes.js';

export interface Machine {
  at: string;
  commit: string;
  os: string;
  cpu: string;
  memGiB: number;
  loadAtStart: string;
  node: string;
  packages: Record<string, string>;
  redis: string;
  sqlite: string;
  python: string;
}

const PACKAGES = [
  'fastify',
  'zod',
  'fastify-type-provider-zod',
  'bullmq',
  'ioredis',
  'better-sqlite3',
  'drizzle-orm',
  'execa',
  'pino',
  'tsx',
  'autocannon',
];

function pkgVersion(name: string): string {
  const file = path.join(REPO_ROOT, 'node_modules', name, 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

function tryRun(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', cwd: REPO_ROOT }).trim();
  } catch {
    return 'unknown';
  }
}

export async function collectMachine(ctx: BenchContext, redisOrigin: string): Promise<Machine> {
  const redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: 1 });
  const info = await redis.info('server');
  redis.disconnect();
  const sqlite = new Database(':memory:');
  const sqliteVersion = (sqlite.prepare('select sqlite_version() v').get() as { v: string }).v;
  sqlite.close();
  const cpus = os.cpus();
  return {
    at: new Date().toISOString(),
    commit: tryRun('git', ['rev-parse', '--short', 'HEAD']),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: `${cpus.length} × ${cpus[0]?.model ?? 'unknown'}`,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAtStart: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    node: process.version,
    packages: Object.fromEntries(PACKAGES.map((p) => [p, pkgVersion(p)])),
    redis: `${/redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'} (${redisOrigin})`,
    sqlite: sqliteVersion,
    // The interpreter's version only: its path would name a folder of this machine.
    python: tryRun(ctx.python, ['-c', 'import platform; print(platform.python_version())']),
  };
}
