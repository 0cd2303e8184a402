// Recovers runs whose worker died (kill -9, power loss): stops the trainer it left behind, moves the run from running
// to interrupted (the attempt is recorded as such) and queues its next attempt at once, without waiting for BullMQ's
// lock to expire. Runs at worker start, every stalled interval, and for each job that arrives still running.
import type { Logger } from 'pino';

import type { Db } from '../db/client.js';
import { closeOpenAttempt, getRun, listRuns, transitionRun } from '../db/runs-repository.js';
import { withTransaction } from '../db/transaction.js';
import { isRemoteWorkerName } from '../db/worker-credentials-repository.js';
import { ConflictError } from '../domain/errors.js';
import type { Run } from '../domain/run.js';
import { nextTrainJob } from '../shared/job-kinds.js';
import type { RunQueues } from '../shared/run-queues.js';
import { recoverLostJobs } from './follow-up/job-recovery.js';
import { stopLeftoverTrainer } from './leftover-trainer.js';
import {
  describeOwner,
  isOwnLease,
  leaseOwnerAlive,
  readLease,
  type RunLease,
  type WorkerIdentity,
} from './run-lease.js';

export interface RecoveryDeps {
  db: Db;
  logger: Logger;
  self: WorkerIdentity;
  killGraceMs: number;
  /** The runs this process trains now: a lease naming this process for any other run is left over, not live. */
  active?: ReadonlyMap<string, unknown>;
}

export type Reclaim =
  { kind: 'owned'; owner: string } | { kind: 'reclaimed'; lease: RunLease | null } | { kind: 'moved' };

/**
 * For a run found running: 'owned' when the worker holding it is alive (its lock may have lapsed in a Redis outage;
 * it must not be run twice), else stops its leftover trainer and moves it to interrupted ('reclaimed'), or
 * 'moved' when someone else changed its status first.
 */
export async function reclaimRun(deps: RecoveryDeps, run: Run): Promise<Reclaim> {
  // A remote worker's run is judged by the control plane (src/reports/lost-workers.ts): its lease is on its own Mac.
  if (run.worker !== null && isRemoteWorkerName(deps.db, run.worker))
    return { kind: 'owned', owner: `the remote worker ${run.worker}` };
  const lease = await readLease(run.runDir);
  // Only this very worker can tell that a lease naming it is left over; another worker in the same process (a test
  // environment, or an embedder running two) is alive and settles its own runs.
  const leftByThisProcess =
    isOwnLease(lease, deps.self) && deps.active !== undefined && !deps.active.has(run.id);
  if (!leftByThisProcess && (await leaseOwnerAlive(lease, deps.self)))
    return { kind: 'owned', owner: describeOwner(lease) };
  const log = deps.logger.child({ runId: run.id });
  // A trainer's pid only means something on the host that started it.
  if (!lease || lease.host === deps.self.host) await stopLeftoverTrainer(run.runDir, deps.killGraceMs, log);
  const moved = interruptLostRun(deps.db, run, `the worker running it, ${describeOwner(lease)}, is gone`);
  if (moved)
    log.warn(
      { owner: describeOwner(lease) },
      'run interrupted: its worker is gone; it resumes from its newest checkpoint',
    );
  return moved ? { kind: 'reclaimed', lease } : { kind: 'moved' };
}

/** running -> interrupted and the open attempt closed as interrupted, in one transaction; false if it moved first. */
function interruptLostRun(db: Db, run: Run, reason: string): boolean {
  try {
    withTransaction(db, () => {
      const now = transitionRun(db, run.id, 'running', 'interrupted', { stopReason: 'worker_lost' }, reason);
      // A worker that died before it opened the attempt leaves nothing to close.
      closeOpenAttempt(db, run.id, now.attempt, { outcome: 'interrupted', error: 'worker lost' });
    });
    return true;
  } catch (e) {
    if (e instanceof ConflictError) return false;
    throw e;
  }
}

/** The train queues, to add the job of a recovered run's next attempt (to its placement's queue). */
export interface JobAccess {
  queues: RunQueues;
  /** MEMORY_MARGIN, for runs that recorded none. */
  margin: number;
}

/**
 * Queues the next attempt of an interrupted run (its own job id, so adding it twice is harmless). The dead
 * worker's job stays active until BullMQ's stalled check frees it; it is then dropped as stale.
 */
async function queueNextAttempt(jobs: JobAccess, db: Db, runId: string): Promise<boolean> {
  const run = getRun(db, runId);
  if (run?.status !== 'interrupted') return false;
  await jobs.queues.addRunJobs([{ run, job: nextTrainJob(run) }], jobs.margin);
  return true;
}

const SCAN_PAGE = 200;

/**
 * One recovery pass over runs that dead workers left running (or interrupted by a worker that died before it
 * queued the next attempt): each is reclaimed and its next attempt queued. Returns the ids of those runs.
 */
export async function recoverLostRuns(deps: RecoveryDeps & JobAccess): Promise<string[]> {
  const released: string[] = [];
  let cursor: string | undefined;
  do {
    const page = listRuns(deps.db, { status: ['running', 'interrupted'], limit: SCAN_PAGE, cursor });
    for (const found of page.items) {
      const run = getRun(deps.db, found.id);
      if (!run) continue;
      if (run.status === 'running') {
        const r = await reclaimRun(deps, run);
        if (r.kind !== 'reclaimed') continue;
      } else {
        if (run.worker !== null && isRemoteWorkerName(deps.db, run.worker)) continue;
        const lease = await readLease(run.runDir);
        if (!lease || (await leaseOwnerAlive(lease, deps.self))) continue;
      }
      if (await queueNextAttempt(deps, deps.db, run.id)) released.push(run.id);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  if (released.length)
    deps.logger.info({ runs: released }, 'queued the next attempt of runs whose worker is gone');
  return released;
}

/**
 * Runs recoverLostRuns (and recoverLostJobs, for follow-up jobs) now and then every `everyMs` until stopped; a
 * failed pass is logged and retried later.
 */
export function startRecoveryLoop(
  deps: RecoveryDeps & JobAccess,
  everyMs: number,
): { first: Promise<void>; stop: () => Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  const pass = () => {
    current = recoverLostRuns(deps)
      .then(() => recoverLostJobs(deps))
      .then(
        () => undefined,
        (err: unknown) => deps.logger.error({ err }, 'recovery pass failed; retrying at the next interval'),
      );
    void current.then(() => {
      if (!stopped) timer = setTimeout(() => void pass(), everyMs);
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
