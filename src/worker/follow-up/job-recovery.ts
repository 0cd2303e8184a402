// Recovers follow-up jobs whose worker died (kill -9, power loss): stops the tool it left behind and queues the job
// again at once, as a new attempt with its own BullMQ id, without waiting for BullMQ's lock to expire.
//
// The worker writes a lease (src/worker/run-lease.ts) into the job folder before the job moves to running, and each
// tool's pid into `tool.pid` there. A job found running whose lease names a dead process is moved back to queued
// (compare-and-set) after its tool is stopped; the outbox then adds `<kind>:<job>:<attempt + 1>`. The dead worker's
// own BullMQ job comes back later from BullMQ's stalled check and is dropped as stale (see process-follow-up.ts).
import fs from 'node:fs/promises';

import type { Logger } from 'pino';

import type { Db } from '../../db/client.js';
import { listJobsByStatus, transitionJob } from '../../db/jobs-repository.js';
import { ConflictError } from '../../domain/errors.js';
import type { FollowUpJob } from '../../domain/follow-up-job.js';
import { toolPidFileOf } from '../../domain/run-folder.js';
import { killGroup } from '../execute.js';
import { processCommand, processRunning, processStartTime, waitGone } from '../process-info.js';
import { describeOwner, isOwnLease, leaseOwnerAlive, readLease, type WorkerIdentity } from '../run-lease.js';

/** After SIGKILL a process is gone within moments; this only bounds the wait. */
const SIGKILL_WAIT_MS = 5_000;
/** ps prints start times to the second. */
const START_TIME_SLACK_MS = 1_000;

export interface JobRecoveryDeps {
  db: Db;
  logger: Logger;
  self: WorkerIdentity;
  killGraceMs: number;
  /** Work this process runs now (runs and jobs): a lease naming this process for any other job is left over. */
  active?: ReadonlyMap<string, unknown>;
}

export type JobReclaim = { kind: 'owned'; owner: string } | { kind: 'reclaimed' } | { kind: 'moved' };

/**
 * A pid names the job's tool only when its command runs mlx_lm (or mlx_lm_lora) and it started no later than the pid
 * file was written: a pid reused by a later process is never signalled.
 */
export async function isToolOf(pid: number, pidFileMtimeMs: number): Promise<boolean> {
  const [command, started] = await Promise.all([processCommand(pid), processStartTime(pid)]);
  const startedMs = started === null ? NaN : Date.parse(started);
  return (
    command !== null &&
    command.includes('mlx_lm') &&
    Number.isFinite(startedMs) &&
    startedMs <= pidFileMtimeMs + START_TIME_SLACK_MS
  );
}

/** Stops the tool named by the job folder's pid file, if it still runs (SIGTERM to its group, SIGKILL after the grace). */
export async function stopLeftoverTool(jobDir: string, graceMs: number, log: Logger): Promise<number | null> {
  const file = toolPidFileOf(jobDir);
  const found = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]).catch(
    (e: NodeJS.ErrnoException) => {
      // No pid file: no tool was running. Any other error must not pass for "no tool left behind".
      if (e.code === 'ENOENT') return null;
      throw new Error(`the tool pid file of ${jobDir} cannot be read (${e.code ?? e.message})`, { cause: e });
    },
  );
  if (!found) return null;
  const pid = Number.parseInt(found[0].trim(), 10);
  const forget = () => fs.rm(file, { force: true });
  if (!Number.isInteger(pid) || pid <= 0 || !(await processRunning(pid))) {
    await forget();
    return null;
  }
  if (!(await isToolOf(pid, found[1].mtimeMs))) {
    log.warn({ pid }, 'the tool pid file names a process that is not this job’s tool; leaving it alone');
    await forget();
    return null;
  }
  log.warn({ pid }, 'stopping a follow-up tool left behind by a worker that is gone');
  killGroup(pid, 'SIGTERM');
  if (!(await waitGone(pid, graceMs))) {
    killGroup(pid, 'SIGKILL');
    // The pid file stays, so the next recovery pass tries again.
    if (!(await waitGone(pid, SIGKILL_WAIT_MS))) throw new Error(`tool ${pid} of ${jobDir} survived SIGKILL`);
  }
  await forget();
  return pid;
}

/**
 * For a job found running: 'owned' while the worker holding it lives; otherwise its leftover tool is stopped and the
 * job moved back to queued ('reclaimed'), or 'moved' when someone else changed its status first.
 */
export async function reclaimJob(deps: JobRecoveryDeps, job: FollowUpJob): Promise<JobReclaim> {
  const lease = await readLease(job.jobDir);
  // As for runs (recovery.ts): only this very worker can tell that a lease naming it is left over.
  const leftByThisProcess =
    isOwnLease(lease, deps.self) && deps.active !== undefined && !deps.active.has(job.id);
  if (!leftByThisProcess && (await leaseOwnerAlive(lease, deps.self)))
    return { kind: 'owned', owner: describeOwner(lease) };
  const log = deps.logger.child({ jobId: job.id, runId: job.runId });
  // A tool's pid only means something on the host that started it.
  if (!lease || lease.host === deps.self.host) await stopLeftoverTool(job.jobDir, deps.killGraceMs, log);
  try {
    transitionJob(deps.db, job.id, 'running', 'queued', { error: null });
  } catch (e) {
    if (e instanceof ConflictError) return { kind: 'moved' };
    throw e;
  }
  log.warn(
    { owner: describeOwner(lease), attempt: job.attempt },
    'follow-up job queued again: its worker is gone',
  );
  return { kind: 'reclaimed' };
}

/** One pass over follow-up jobs that dead workers left running; returns the ids queued again. */
export async function recoverLostJobs(deps: JobRecoveryDeps): Promise<string[]> {
  const requeued: string[] = [];
  for (const job of listJobsByStatus(deps.db, ['running'])) {
    if ((await reclaimJob(deps, job)).kind === 'reclaimed') requeued.push(job.id);
  }
  return requeued;
}
