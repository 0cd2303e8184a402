// Asks the OS about a process by pid with `ps` (same flags on macOS and Linux): running or not, start time, command.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One `ps` column for one pid; null when there is no such process (ps exits 1) or ps cannot run. */
async function ps(pid: number, column: string): Promise<string | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    // -ww: never truncate the command to a terminal width.
    const { stdout } = await run('ps', ['-ww', '-o', `${column}=`, '-p', String(pid)], { timeout: 10_000 });
    const out = stdout.trim();
    return out === '' ? null : out;
  } catch {
    // Handled: ps exits non-zero when the pid does not exist, which is the answer "no such process".
    return null;
  }
}

function signalZero(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the pid names a live process; a zombie (exited, not yet reaped by its parent) counts as gone. */
export async function processRunning(pid: number): Promise<boolean> {
  if (!Number.isInteger(pid) || pid <= 0 || !signalZero(pid)) return false;
  const state = await ps(pid, 'stat');
  // No ps answer although signal 0 reached it: trust the signal.
  return state === null ? signalZero(pid) : !state.startsWith('Z');
}

/** The start time as ps prints it; with the pid it names one process even after pids are reused. */
export function processStartTime(pid: number): Promise<string | null> {
  return ps(pid, 'lstart');
}

/** The full command line, untruncated. */
export function processCommand(pid: number): Promise<string | null> {
  return ps(pid, 'command');
}

/** Polls until the process is gone or the time is up; true when it is gone. */
export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await processRunning(pid))) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}
