// Cancels a sweep: every member still queued, interrupted or running; one member's failure does not stop the rest.
import type { Db } from '../db/client.js';
import { getRun } from '../db/runs-repository.js';
import { getSweep, updateSweepStatus } from '../db/sweeps-repository.js';
import { ConflictError, NotFoundError } from '../domain/errors.js';
import type { Sweep } from '../domain/run.js';
import { isFinal } from '../domain/run-status.js';
import type { CancelDeps, CancelLog } from './cancel-deps.js';
import { cancelRun } from './cancel-run.js';
import { sweepRuns } from './sweep-results.js';

interface Log extends CancelLog {
  error(obj: object, msg: string): void;
}

export interface SweepCancelResult {
  sweep: Sweep;
  /** Members cancelled at once (no worker held them). */
  cancelled: string[];
  /** Running members: flagged and signalled; their worker stops the trainer and records the cancel. */
  cancelling: string[];
  alreadyFinal: number;
  /** Members that could not be cancelled; the others were cancelled regardless. */
  errors: { runId: string; message: string }[];
}

/** Marks the sweep cancelled, then cancels each member on its own (through cancelRun, like a single run). */
export async function cancelSweep(deps: CancelDeps, id: string, log: Log): Promise<SweepCancelResult> {
  const stored = getSweep(deps.db, id);
  if (!stored) throw new NotFoundError('Sweep', id);
  // Cancelling twice is harmless (it retries members that failed before); a done sweep answers 409.
  const sweep =
    stored.status === 'cancelled' ? stored : updateSweepStatus(deps.db, id, 'active', 'cancelled');
  const result: SweepCancelResult = { sweep, cancelled: [], cancelling: [], alreadyFinal: 0, errors: [] };
  // Waiting members first: stopping a running member frees its worker, which would take the next waiting job.
  const members = sweepRuns(deps.db, sweep).sort(
    (a, b) => Number(a.status === 'running') - Number(b.status === 'running'),
  );
  for (const run of members) {
    if (isFinal(run.status)) {
      result.alreadyFinal++;
      continue;
    }
    try {
      const { state } = await cancelRun(deps, run.id, log);
      result[state].push(run.id);
    } catch (e) {
      if (e instanceof ConflictError && endedMeanwhile(deps.db, run.id)) {
        result.alreadyFinal++;
        continue;
      }
      log.error({ err: e, runId: run.id, sweepId: id }, 'could not cancel a sweep member');
      result.errors.push({ runId: run.id, message: e instanceof Error ? e.message : String(e) });
    }
  }
  return result;
}

function endedMeanwhile(db: Db, runId: string): boolean {
  const run = getRun(db, runId);
  return run !== undefined && isFinal(run.status);
}
