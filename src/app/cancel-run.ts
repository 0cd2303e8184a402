// Cancels one run: a run no worker trains is cancelled at once (its job removed); a running one is flagged in SQLite
// and signalled through Redis to the worker, which stops the trainer's process group and records the cancel.
import type { Queue } from 'bullmq';

import type { Db } from '../db/client.js';
import { getRun, requestCancel, requireRun, transitionRun } from '../db/runs-repository.js';
import { ConflictError } from '../domain/errors.js';
import type { Run } from '../domain/run.js';
import { isFinal } from '../domain/run-status.js';
import { trainJobIdFor } from '../shared/job-kinds.js';
import { cancelChannel } from '../shared/queue.js';
import { runQueuesOf } from '../shared/run-queues.js';
import type { CancelDeps, CancelLog } from './cancel-deps.js';

/** 'cancelled': final now; 'cancelling': a worker holds the run and stops it. */
export type CancelState = 'cancelled' | 'cancelling';

/**
 * Order matters. The flag goes into SQLite first, so a worker that takes the job from now on never starts the
 * trainer, and a worker that already started it sees the flag within a second even if the Redis signal is lost.
 * A run that is not running is then moved to cancelled by compare-and-set: if a worker moved it to running in the
 * meantime, the set fails and the run is stopped through the signal instead. Removing the job is best effort: a job
 * left behind (locked by a worker that just took it, or Redis down) finds its run final and ends at once.
 */
export async function cancelRun(
  deps: CancelDeps,
  id: string,
  log: CancelLog,
): Promise<{ run: Run; state: CancelState }> {
  const run = requireRun(deps.db, id);
  if (isFinal(run.status))
    throw new ConflictError(
      `Run ${id} is already ${run.status}; only a queued, interrupted or running run can be cancelled`,
    );
  if (!requestCancel(deps.db, id)) throw alreadyFinal(deps.db, id);
  if (run.status !== 'running') {
    await removeJob(
      runQueuesOf(deps.queue, deps.redis, deps.config.queuePrefix).forRun(run, deps.config.memoryMargin),
      trainJobIdFor(run),
      log,
    );
    try {
      const cancelled = transitionRun(
        deps.db,
        id,
        ['queued', 'interrupted'],
        'cancelled',
        { stopReason: 'cancelled' },
        'cancelled by request',
      );
      return { run: cancelled, state: 'cancelled' };
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
      const now = getRun(deps.db, id);
      if (now?.status === 'cancelled') return { run: now, state: 'cancelled' };
      if (now?.status !== 'running') throw alreadyFinal(deps.db, id);
    }
  }
  try {
    await deps.redis.publish(cancelChannel(deps.config.queuePrefix), id);
  } catch (err) {
    // The worker also polls the flag, so the cancel still lands, only a little later.
    log.warn(
      { err, runId: id },
      'could not publish the cancel signal; the worker will see the flag in SQLite',
    );
  }
  return { run: requireRun(deps.db, id), state: 'cancelling' };
}

function alreadyFinal(db: Db, id: string): ConflictError {
  return new ConflictError(`Run ${id} is already ${getRun(db, id)?.status ?? 'gone'}`);
}

/** Removes the run's job; a job a worker holds (locked) or an unreachable Redis leaves it in place. */
async function removeJob(queue: Queue, jobId: string, log: CancelLog): Promise<void> {
  try {
    const job = await queue.getJob(jobId);
    await job?.remove();
  } catch (err) {
    log.warn(
      { err, jobId },
      'the job of the cancelled run stays in the queue; it ends at once when a worker takes it',
    );
  }
}
