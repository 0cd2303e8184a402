// Stops a trainer that a dead worker left behind: it runs detached in its own process group, so it outlives the
// worker; its pid file in the run folder finds it, and its command line proves it is that run's trainer.
import fs from 'node:fs/promises';

import type { Logger } from 'pino';

import { trainerPidFileOf } from '../domain/run-folder.js';
import { killGroup } from './execute.js';
import { processCommand, processRunning, waitGone } from './process-info.js';

/** After SIGKILL a process is gone within moments; this only bounds the wait. */
const SIGKILL_WAIT_MS = 5_000;

export async function readTrainerPid(runDir: string): Promise<number | null> {
  const text = await fs.readFile(trainerPidFileOf(runDir), 'utf8').catch((e: NodeJS.ErrnoException) => {
    // No pid file: no trainer was started. Any other error must not pass for "no trainer left behind".
    if (e.code === 'ENOENT') return null;
    throw new Error(`the trainer pid file of ${runDir} cannot be read (${e.code ?? e.message})`, {
      cause: e,
    });
  });
  const pid = text === null ? NaN : Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/**
 * A pid names this run's trainer only when its command runs mlx_lm_lora and mentions the run folder (its
 * --adapter-path and -c config live there): a pid reused by any other process is never signalled.
 */
export function isTrainerOf(command: string | null, runDir: string): boolean {
  return command !== null && command.includes('mlx_lm_lora') && command.includes(runDir);
}

/**
 * Stops the trainer named by the run's pid file, if it still runs: SIGTERM to its group, SIGKILL after the grace.
 * Removes the pid file. Returns the pid it stopped, or null when there was none to stop.
 */
export async function stopLeftoverTrainer(
  runDir: string,
  graceMs: number,
  log: Logger,
): Promise<number | null> {
  const pid = await readTrainerPid(runDir);
  if (pid === null) return null;
  const forget = () => fs.rm(trainerPidFileOf(runDir), { force: true });
  if (!(await processRunning(pid))) {
    await forget();
    return null;
  }
  const command = await processCommand(pid);
  if (!isTrainerOf(command, runDir)) {
    log.warn(
      { pid, command },
      'the trainer pid file names a process that is not this run’s trainer; leaving it alone',
    );
    await forget();
    return null;
  }
  log.warn({ pid }, 'stopping a trainer left behind by a worker that is gone');
  killGroup(pid, 'SIGTERM');
  if (!(await waitGone(pid, graceMs))) {
    killGroup(pid, 'SIGKILL');
    // The pid file stays, so the next recovery pass tries again.
    if (!(await waitGone(pid, SIGKILL_WAIT_MS)))
      throw new Error(`trainer ${pid} of ${runDir} survived SIGKILL`);
  }
  await forget();
  return pid;
}
