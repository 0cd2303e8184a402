// Runs a trainer argv in its own process group (no shell), feeds its output lines on, and stops it on abort or watchdog.
import fs from 'node:fs/promises';

import { execa } from 'execa';

import { LineSplitter } from './line-splitter.js';

/** Why the worker stopped a trainer; 'early_stopped' is a sweep's median stopping rule (see median-stopping.ts). */
export type StopReason = 'cancelled' | 'early_stopped' | 'time_limit' | 'idle_limit' | 'shutdown';

export interface ExecuteOptions {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  /** Where the trainer's pid is written, so a restarted worker can stop a trainer left behind. */
  pidFile?: string;
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Aborting stops the trainer's whole process group; the reason is the abort reason. */
  signal?: AbortSignal;
  timeLimitMs?: number;
  idleLimitMs?: number;
  killGraceMs: number;
  /** On macOS, keep the machine awake while the trainer runs. */
  caffeinate?: boolean;
  onSpawn?: (pid: number) => void;
  /** A problem that does not stop the trainer but must not pass silently (a pid file that could not be written). */
  onProblem?: (message: string) => void;
}

export interface ExecuteResult {
  exitCode: number | null;
  signal: string | null;
  stopReason: StopReason | null;
  spawnError: string | null;
  durationMs: number;
}

/** Sends a signal to a whole process group; false when it is already gone. */
export function killGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}

export async function executeTrainer(opts: ExecuteOptions): Promise<ExecuteResult> {
  const started = Date.now();
  const [file, ...args] = opts.argv;
  const child = execa(file!, args, {
    env: opts.env,
    extendEnv: true,
    cwd: opts.cwd,
    detached: true,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    cleanup: false,
    stripFinalNewline: false,
  });
  let stopReason: StopReason | null = null;
  let lastOutput = Date.now();
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (reason: StopReason) => {
    if (stopReason || child.pid === undefined) return;
    stopReason = reason;
    killGroup(child.pid, 'SIGTERM');
    killTimer = setTimeout(
      () => child.pid !== undefined && killGroup(child.pid, 'SIGKILL'),
      opts.killGraceMs,
    );
  };
  const onAbort = () => stop((opts.signal?.reason as StopReason) ?? 'cancelled');
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const splitters = (['stdout', 'stderr'] as const).map((stream) => {
    const s = new LineSplitter((line) => opts.onLine(stream, line));
    // Flowing mode: the pipe is always drained, so the trainer never blocks on a full pipe.
    child[stream]?.on('data', (chunk: Buffer) => {
      lastOutput = Date.now();
      s.push(chunk);
    });
    return s;
  });

  const watchdog = setInterval(
    () => {
      const now = Date.now();
      if (opts.timeLimitMs && now - started > opts.timeLimitMs) stop('time_limit');
      else if (opts.idleLimitMs && now - lastOutput > opts.idleLimitMs) stop('idle_limit');
    },
    Math.max(50, Math.min(1000, (opts.idleLimitMs || 1000) / 4)),
  );

  let caffeinate: ReturnType<typeof execa> | undefined;
  if (child.pid !== undefined) {
    opts.onSpawn?.(child.pid);
    // Without it a worker that dies cannot find this trainer to stop it: said, not swallowed.
    if (opts.pidFile)
      await fs
        .writeFile(opts.pidFile, String(child.pid))
        .catch((e: Error) =>
          opts.onProblem?.(`could not write the trainer pid file ${opts.pidFile}: ${e.message}`),
        );
    if (opts.caffeinate && process.platform === 'darwin') {
      caffeinate = execa('caffeinate', ['-i', '-w', String(child.pid)], { reject: false, stdio: 'ignore' });
    }
  }
  const result = await child;
  clearInterval(watchdog);
  clearTimeout(killTimer);
  opts.signal?.removeEventListener('abort', onAbort);
  for (const s of splitters) s.end();
  caffeinate?.kill();
  // Children the trainer forked may outlive it; the group goes with it.
  if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
  if (opts.pidFile) await fs.rm(opts.pidFile, { force: true });
  const spawnError =
    result.failed && result.exitCode === undefined && !result.signal
      ? (result.originalMessage ?? result.message ?? 'spawn failed')
      : null;
  return {
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    stopReason,
    spawnError,
    durationMs: Date.now() - started,
  };
}
