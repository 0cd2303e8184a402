// Cancels a sweep: every member still queued, interrupted or running; one member's failure does not stop the rest.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

import type { Db } from '../db/client.js';
import { requestCancel, transitionRun } from '../db/runs-repository.js';
import { getSweep, updateSweepStatus } from '../db/sweeps-repository.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import type { Run, Sweep } from '../domain/run.js';
import { isFinal } from '../domain/run-status.js';
import type { Config } from '../shared/config.js';
import { cancelChannel } from '../shared/queue.js';
import { sweepRuns } from './sweep-view.js';

export interface CancelDeps {
  config: Config;
  db: Db;
  queue: Queue;
  redis: Redis;
}

/** What happened to one member: cancelled now, stopping (the worker ends it), or already final. */
export type MemberCancel = 'cancelled' | 'cancelling' | 'final';

/**
 * A run that no worker holds is cancelled at once: its job is removed, then its status moves to cancelled.
 * A run a worker holds (running, or its job just became active so removal is refused) is flagged with
 * cancel_requested_at and its id is published on the cancel channel; the worker stops the trainer and records
 * the cancel, and a worker that has not started the trainer yet sees the flag and never starts it.
 */
export async function cancelMember(deps: CancelDeps, run: Run): Promise<MemberCancel> {
  if (isFinal(run.status)) return 'final';
  if (run.status === 'queued' || run.status === 'interrupted') {
    if (await removeJob(deps.queue, run.id)) {
      try {
        transitionRun(deps.db, run.id, run.status, 'cancelled', { stopReason: 'cancelled' }, 'cancelled with its sweep');
        return 'cancelled';
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e;
        // It moved meanwhile (e.g. a cancel of the run itself): fall through and flag it.
      }
    }
  }
  if (!requestCancel(deps.db, run.id)) return 'final';
  await deps.redis.publish(cancelChannel(deps.config.queuePrefix), run.id);
  return 'cancelling';
}

/** Removes the run's job unless a worker holds it; true when no job is left (removed, or none existed). */
async function removeJob(queue: Queue, runId: string): Promise<boolean> {
  const job = await queue.getJob(runId);
  if (!job) return true;
  try {
    await job.remove();
    return true;
  } catch (e) {
    // BullMQ refuses to remove a locked (active) job: a worker has just taken it.
    if (await job.isActive()) return false;
    throw e;
  }
}

export interface SweepCancelResult {
  sweep: Sweep;
  cancelled: string[];
  cancelling: string[];
  alreadyFinal: number;
  errors: { runId: string; message: string }[];
}

/** Marks the sweep cancelled, then cancels each member on its own; a member that fails is reported, not fatal. */
export async function cancelSweep(deps: CancelDeps, id: string, log?: { error(obj: object, msg: string): void }): Promise<SweepCancelResult> {
  const stored = getSweep(deps.db, id);
  if (!stored) throw new NotFoundError('Sweep', id);
  // Cancelling twice is harmless (members already final are counted as such); a done sweep answers 409.
  const sweep = stored.status === 'cancelled' ? stored : updateSweepStatus(deps.db, id, 'active', 'cancelled');
  const result: SweepCancelResult = { sweep, cancelled: [], cancelling: [], alreadyFinal: 0, errors: [] };
  // Waiting members first: stopping a running member frees its worker, which would take the next waiting job.
  const members = sweepRuns(deps.db, sweep).sort((a, b) => Number(a.status === 'running') - Number(b.status === 'running'));
  for (const run of members) {
    try {
      const outcome = await cancelMember(deps, run);
      if (outcome === 'cancelled') result.cancelled.push(run.id);
      else if (outcome === 'cancelling') result.cancelling.push(run.id);
      else result.alreadyFinal++;
    } catch (e) {
      log?.error({ err: e, runId: run.id, sweepId: id }, 'could not cancel a sweep member');
      result.errors.push({ runId: run.id, message: e instanceof Error ? e.message : String(e) });
    }
  }
  return result;
}
