// Starts the raw baseline processes (bench/raw/*) and stops them through their IPC channel.
import path from 'node:path';

import { npmRunWorker, RAW_WORKER_JS } from './compiled.js';
import type { BenchContext } from './context.js';
import { nextMessage, type Proc, runTs } from './processes.js';

export interface RawServer {
  proc: Proc;
  port: number;
  close(): Promise<void>;
}

export async function startRawServer(
  ctx: BenchContext,
  dir: string,
  env: Record<string, string>,
): Promise<RawServer> {
  const proc = runTs('bench/raw/raw-server.ts', {
    env: { REDIS_URL: ctx.redisUrl, ...env },
    logFile: path.join(dir, 'raw-server.log'),
    ipc: true,
  });
  const { port } = await nextMessage<{ type: string; port: number }>(proc, 'listening');
  return { proc, port, close: () => closeRaw(proc) };
}

export async function closeRaw(proc: Proc): Promise<void> {
  if (proc.child.exitCode !== null) return;
  const exited = new Promise((r) => proc.child.once('exit', r));
  proc.child.send('close');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The raw BullMQ worker (bench/raw/raw-worker.ts) on queue prefix `queuePrefix`, ready to take jobs; compiled and
 * run with the node flags of `npm run worker`, as the project's worker is.
 */
export async function startRawWorker(ctx: BenchContext, dir: string, queuePrefix: string): Promise<Proc> {
  const proc = runTs(RAW_WORKER_JS, {
    plain: true,
    nodeArgs: npmRunWorker().nodeArgs,
    env: { REDIS_URL: ctx.redisUrl, RAW_PREFIX: queuePrefix },
    logFile: path.join(dir, 'raw-worker.log'),
    ipc: true,
  });
  await nextMessage(proc, 'ready');
  return proc;
}
