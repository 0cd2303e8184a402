// Recovers runs whose worker died (kill -9, power loss): stops the trainer it left behind, moves the run from running
// to interrupted (the attempt is recorded as such) and gives its job back to the queue at once, without waiting for
// BullMQ's lock to expire. Runs at worker start, every stalled interval, and for each job that arrives still running.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { Db } from '../db/client.js';
import { finishAttempt, getRun, listRuns, transitionRun } from '../db/runs-repository.js';
import { withTransaction } from '../db/transaction.js';
import { ConflictError } from '../domain/errors.js';
import type { Run } from '../domain/run.js';
import { stopLeftoverTrainer } from './leftover-trainer.js';
import { describeOwner, leaseOwnerAlive, readLease, type RunLease, type WorkerIdentity } from './run-lease.js';

export interface RecoveryDeps {
  db: Db;
  logger: Logger;
  self: WorkerIdentity;
  killGraceMs: number;
}

export type Reclaim = { kind: 'owned'; owner: string } | { kind: 'reclaimed'; lease: RunLease | null } | { kind: 'moved' };

/**
 * For a run found running: 'owned' when the worker holding it is alive (its lock may have lapsed in a Redis outage;
 * it must not be run twice), else stops its leftover trainer and moves it to interrupted ('reclaimed'), or
 * 'moved' when someone else changed its status first.
 */
export async function reclaimRun(deps: RecoveryDeps, run: Run): Promise<Reclaim> {
  const lease = await readLease(run.runDir);
  if (await leaseOwnerAlive(lease, deps.self)) return { kind: 'owned', owner: describeOwner(lease) };
  const log = deps.logger.child({ runId: run.id });
  // A trainer's pid only means something on the host that started it.
  if (!lease || lease.host === deps.self.host) await stopLeftoverTrainer(run.runDir, deps.killGraceMs, log);
  const moved = interruptLostRun(deps.db, run, `the worker running it, ${describeOwner(lease)}, is gone`);
  if (moved) log.warn({ owner: describeOwner(lease) }, 'run interrupted: its worker is gone; it resumes from its newest checkpoint');
  return moved ? { kind: 'reclaimed', lease } : { kind: 'moved' };
}

/** running -> interrupted and the open attempt closed as interrupted, in one transaction; false if it moved first. */
function interruptLostRun(db: Db, run: Run, reason: string): boolean {
  try {
    withTransaction(db, () => {
      const now = transitionRun(db, run.id, 'running', 'interrupted', { stopReason: 'worker_lost' }, reason);
      closeAttempt(db, run.id, now.attempt);
    });
    return true;
  } catch (e) {
    if (e instanceof ConflictError) return false;
    throw e;
  }
}

function closeAttempt(db: Db, runId: string, attempt: number): void {
  if (attempt < 1) return;
  try {
    // A savepoint: a worker that died before it opened the attempt leaves nothing to close.
    withTransaction(db, () => finishAttempt(db, runId, attempt, { outcome: 'interrupted', error: 'worker lost' }));
  } catch (e) {
    if (!(e instanceof ConflictError)) throw e;
  }
}

/** The runs queue and a plain connection to the same Redis (to read a job's lock). */
export interface JobAccess {
  queue: Queue;
  redis: Redis;
}

/**
 * Puts a job back in the queue when it sits in active under the lock of the dead worker named by the lease (or
 * under no lock at all). A lock held by anyone else is left alone. Returns whether the job moved.
 */
export async function releaseJob(jobs: JobAccess, runId: string, lease: RunLease | null): Promise<boolean> {
  const { queue, redis } = jobs;
  const token = await redis.get(`${queue.toKey(runId)}:lock`);
  if (token !== null && token !== lease?.lockToken) return false;
  const job = await queue.getJob(runId);
  if (!job || (await job.getState()) !== 'active') return false;
  // '0' skips BullMQ's token check, right only because no lock exists.
  await job.moveToWait(token ?? '0');
  return true;
}

const SCAN_PAGE = 200;

/**
 * One recovery pass over runs that dead workers left running (or interrupted with their job still active):
 * each is reclaimed and its job released. Returns the ids of the runs whose jobs went back to the queue.
 */
export async function recoverLostRuns(deps: RecoveryDeps & JobAccess): Promise<string[]> {
  const released: string[] = [];
  let cursor: string | undefined;
  do {
    const page = listRuns(deps.db, { status: ['running', 'interrupted'], limit: SCAN_PAGE, cursor });
    for (const found of page.items) {
      const run = getRun(deps.db, found.id);
      if (!run) continue;
      let lease: RunLease | null;
      if (run.status === 'running') {
        const r = await reclaimRun(deps, run);
        if (r.kind !== 'reclaimed') continue;
        lease = r.lease;
      } else {
        lease = await readLease(run.runDir);
        if (!lease || (await leaseOwnerAlive(lease, deps.self))) continue;
      }
      if (await releaseJob(deps, run.id, lease)) released.push(run.id);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  if (released.length) deps.logger.info({ runs: released }, 'gave the jobs of runs whose worker is gone back to the queue');
  return released;
}

/** Runs recoverLostRuns now and then every `everyMs` until stopped; a failed pass is logged and retried later. */
export function startRecoveryLoop(deps: RecoveryDeps & JobAccess, everyMs: number): { first: Promise<void>; stop: () => Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const pass = () => {
    current = recoverLostRuns(deps).then(
      () => undefined,
      (err: unknown) => deps.logger.error({ err }, 'recovery pass failed; retrying at the next interval'),
    );
    void current.then(() => {
      if (!stopped) timer = setTimeout(pass, everyMs);
    });
    return current;
  };
  const first = pass();
  return {
    first,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
