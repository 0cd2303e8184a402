// Cancels one follow-up job: a queued job is cancelled at once (its BullMQ job removed); a running one is flagged in
// SQLite and signalled through Redis to the worker, which stops the tool and records the cancel.
import { getJob, requestJobCancel, requireJob, transitionJob } from '../db/jobs-repository.js';
import { getRun } from '../db/runs-repository.js';
import { ConflictError } from '../domain/errors.js';
import { type FollowUpJob, isJobFinal } from '../domain/follow-up-job.js';
import { followUpJobOptions } from '../shared/follow-up-queue.js';
import { cancelChannel } from '../shared/queue.js';
import { runQueuesOf } from '../shared/run-queues.js';
import type { CancelDeps, CancelLog } from './cancel-deps.js';

/**
 * The flag goes into SQLite first, so a worker that takes the job from now on never starts its tool. A queued job is
 * then moved to cancelled by compare-and-set; if a worker took it in the meantime, it is stopped through the signal
 * (or the flag, which the worker polls) instead. 'cancelled': final now; 'cancelling': a worker stops it.
 */
export async function cancelJob(
  deps: CancelDeps,
  id: string,
  log: CancelLog,
): Promise<{ job: FollowUpJob; state: 'cancelled' | 'cancelling' }> {
  const job = requireJob(deps.db, id);
  if (isJobFinal(job.status)) throw new ConflictError(`Job ${job.id} is already ${job.status}`);
  requestJobCancel(deps.db, job.id);
  if (job.status === 'queued') {
    let cancelled: FollowUpJob | null = null;
    try {
      cancelled = transitionJob(deps.db, job.id, 'queued', 'cancelled', { error: 'cancelled by request' });
    } catch (e) {
      if (!(e instanceof ConflictError)) throw e;
    }
    if (cancelled) {
      // It waits in its run's queue (placement), or the shared one when the run is gone.
      const run = getRun(deps.db, job.runId);
      const queues = runQueuesOf(deps.queue, deps.redis, deps.config.queuePrefix);
      const queue = run ? queues.forRun(run, deps.config.memoryMargin) : queues.shared;
      await queue.remove(followUpJobOptions(job.kind, job.id, job.attempt + 1).jobId).catch(() => 0);
      return { job: cancelled, state: 'cancelled' };
    }
  }
  await deps.redis
    .publish(cancelChannel(deps.config.queuePrefix), job.id)
    .catch((err: unknown) => log.warn({ err }, 'cancel signal not published; the worker polls the flag'));
  return { job: getJob(deps.db, job.id)!, state: 'cancelling' };
}
