// Child processes of the benchmark: the project's entrypoints and the raw servers, run with the tsx loader,
// their readiness, resident memory, and a registry so every child is stopped on the way out.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { sleep } from './stats.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BENCH_DIR = path.join(REPO_ROOT, 'bench');

const children = new Set<ChildProcess>();
// Nothing the benchmark started outlives it, however it ends.
process.once('exit', () => killAll());

export interface Proc {
  child: ChildProcess;
  pid: number;
  logFile: string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

function track(child: ChildProcess, logFile: string): Proc {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return {
    child,
    pid: child.pid!,
    logFile,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Runs a TypeScript file of this repo (node --import tsx), output to `logFile`; `ipc` adds a message channel;
 * `plain` runs a JavaScript file without the tsx loader (the compiled worker, bin/mlxq.js).
 */
export function runTs(
  file: string,
  opts: {
    env: Record<string, string>;
    logFile: string;
    ipc?: boolean;
    cwd?: string;
    nodeArgs?: string[];
    plain?: boolean;
    args?: string[];
  },
): Proc {
  const out = fs.openSync(opts.logFile, 'a');
  const common = { cwd: opts.cwd ?? REPO_ROOT, env: { ...process.env, ...opts.env } };
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles every child the benchmark starts.
  const execArgv = [
    ...(opts.plain ? [] : ['--import', 'tsx']),
    ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    ...(opts.nodeArgs ?? []),
  ];
  const child = opts.ipc
    ? fork(path.resolve(REPO_ROOT, file), opts.args ?? [], {
        ...common,
        execArgv,
        stdio: ['ignore', out, out, 'ipc'],
      })
    : spawn(process.execPath, [...execArgv, path.resolve(REPO_ROOT, file), ...(opts.args ?? [])], {
        ...common,
        stdio: ['ignore', out, out],
      });
  fs.closeSync(out);
  return track(child, opts.logFile);
}

/** Waits for the first IPC message of `type`. */
export function nextMessage<T extends { type: string }>(
  p: Proc,
  type: string,
  timeoutMs = 30_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`no '${type}' message from pid ${p.pid} in ${timeoutMs} ms (see ${p.logFile})`)),
      timeoutMs,
    );
    const onMessage = (m: T) => m?.type === type && done(null, m);
    const onExit = () => done(new Error(`pid ${p.pid} exited before '${type}' (see ${p.logFile})`));
    function done(err: Error | null, m?: T) {
      clearTimeout(timer);
      p.child.off('message', onMessage);
      p.child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m!);
    }
    p.child.on('message', onMessage);
    p.child.once('exit', onExit);
  });
}

export function getStatus(port: number, urlPath: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', () => resolve(0));
  });
}

/** Waits until GET `urlPath` answers 200, failing early when the process exits. */
export async function waitHttp(
  p: Proc,
  port: number,
  urlPath = '/healthz',
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await getStatus(port, urlPath)) !== 200) {
    if (p.child.exitCode !== null)
      throw new Error(`pid ${p.pid} exited (see ${p.logFile}): ${tail(p.logFile)}`);
    if (Date.now() > deadline)
      throw new Error(`GET ${urlPath} on ${port} did not answer 200 in ${timeoutMs} ms (see ${p.logFile})`);
    await sleep(25);
  }
}

/** Waits until the process's log file holds a line matching `re`. */
export async function waitLog(p: Proc, re: RegExp, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!re.test(fs.readFileSync(p.logFile, 'utf8'))) {
    if (p.child.exitCode !== null)
      throw new Error(`pid ${p.pid} exited (see ${p.logFile}): ${tail(p.logFile)}`);
    if (Date.now() > deadline)
      throw new Error(`no ${re} in ${p.logFile} after ${timeoutMs} ms: ${tail(p.logFile)}`);
    await sleep(25);
  }
}

function tail(file: string): string {
  return fs.readFileSync(file, 'utf8').split('\n').slice(-8).join('\n');
}

/** Resident set size in MB from /proc (Linux); VmRSS now, VmHWM the peak. */
export function rssMb(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Stops every child still running (used on errors and signals). */
export function killAll(): void {
  for (const c of children) c.kill('SIGKILL');
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}
