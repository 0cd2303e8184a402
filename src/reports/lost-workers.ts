// The control plane's watch over remote workers' runs: a run whose remote worker is revoked, or whose worker is lost
// (its registry entry not refreshed in Redis for WORKER_LOST_S, or gone: the Mac died, sleeps or is cut off), is interrupted and its next attempt queued, so another worker resumes it from its newest uploaded
// checkpoint. If the lost worker comes back, its reports are refused (stale attempt) and it stops its trainer.
// Runs of the local worker are left to its own lease-based recovery (src/worker/recovery.ts); follow-up jobs are
// moved the same way (lost-worker-jobs.ts).
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { Db } from '../db/client.js';
import { closeOpenAttempt, getRun, listRuns, transitionRun } from '../db/runs-repository.js';
import { withTransaction } from '../db/transaction.js';
import { hasLiveCredential, isRemoteWorkerName } from '../db/worker-credentials-repository.js';
import { ConflictError } from '../domain/errors.js';
import type { Run } from '../domain/run.js';
import { markLost } from '../domain/worker-entry.js';
import { nextTrainJob } from '../shared/job-kinds.js';
import { runQueuesOf } from '../shared/run-queues.js';
import { listWorkers } from '../shared/worker-registry.js';
import { forgetEarlyStop } from './early-stops.js';
import { moveJobsOfLostWorkers } from './lost-worker-jobs.js';

export interface LostWorkerDeps {
  db: Db;
  redis: Redis;
  queue: Queue;
  prefix: string;
  logger: Logger;
  heartbeatMs: number;
  /** WORKER_LOST_S: a worker silent this long is lost. */
  lostMs: number;
  /** MEMORY_MARGIN, for runs that recorded none (the next attempt's queue follows the run's placement). */
  margin: number;
}

/** Why a remote worker's run must move, or null while its worker may still report. */
function lostReason(
  db: Db,
  run: Run,
  live: ReadonlySet<string>,
  judging: boolean,
  lostMs: number,
): string | null {
  if (run.worker === null || !isRemoteWorkerName(db, run.worker)) return null;
  if (!hasLiveCredential(db, run.worker))
    return `the worker ${run.worker} was revoked; the run moves to another worker`;
  if (judging && !live.has(run.worker))
    return `the worker ${run.worker} is lost: no heartbeat for ${lostMs / 1000} s (WORKER_LOST_S); the run resumes on another worker`;
  return null;
}

/** running -> interrupted with the open attempt closed, in one transaction; false when the run moved first. */
function interrupt(db: Db, run: Run, reason: string, error: string): boolean {
  try {
    withTransaction(db, () => {
      const now = transitionRun(
        db,
        run.id,
        'running',
        'interrupted',
        { stopReason: 'worker_lost', notBefore: null },
        reason,
      );
      closeOpenAttempt(db, run.id, now.attempt, { outcome: 'interrupted', error });
    });
    forgetEarlyStop(db, run.id);
    return true;
  } catch (e) {
    if (e instanceof ConflictError) return false;
    throw e;
  }
}

/** One pass; `judging` is false during the grace after the control plane starts (registry entries may be stale). */
export async function moveRunsOfLostWorkers(deps: LostWorkerDeps, judging: boolean): Promise<string[]> {
  const running = listRuns(deps.db, { status: ['running'], limit: 1000 }).items;
  if (running.length === 0) return [];
  const entries = markLost(await listWorkers(deps.redis, deps.prefix), Date.now(), deps.lostMs);
  const live = new Set(entries.filter((e) => e.state !== 'lost').map((e) => e.name));
  const moved: string[] = [];
  for (const found of running) {
    const run = getRun(deps.db, found.id);
    if (!run) continue;
    const reason = lostReason(deps.db, run, live, judging, deps.lostMs);
    if (reason === null) continue;
    const revoked = reason.includes('revoked');
    if (!interrupt(deps.db, run, reason, revoked ? 'worker revoked' : 'worker lost')) continue;
    deps.logger.warn({ runId: run.id, worker: run.worker }, reason);
    const after = getRun(deps.db, run.id);
    if (after?.status === 'interrupted')
      await runQueuesOf(deps.queue, deps.redis, deps.prefix).addRunJobs(
        [{ run: after, job: nextTrainJob(after) }],
        deps.margin,
      );
    moved.push(run.id);
  }
  return moved;
}

/**
 * Runs a pass every heartbeat; judges lost workers only once WORKER_LOST_S has passed since the control plane started
 * (its grace after a restart: workers that kept training while it was down get to be seen first).
 */
export function startLostWorkerWatch(deps: LostWorkerDeps): { stop(): Promise<void> } {
  const startedAt = Date.now();
  const graceMs = deps.lostMs;
  let stopped = false;
  let current: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const pass = () => {
    const judging = Date.now() - startedAt >= graceMs;
    // Follow-up jobs of lost workers move on too.
    current = Promise.all([moveRunsOfLostWorkers(deps, judging), moveJobsOfLostWorkers(deps, judging)])
      .catch((err: unknown) =>
        deps.logger.warn(
          { err: (err as Error).message },
          'lost-worker pass failed; retrying at the next heartbeat',
        ),
      )
      .finally(() => {
        if (!stopped) timer = setTimeout(pass, Math.max(500, deps.heartbeatMs));
      });
  };
  pass();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
