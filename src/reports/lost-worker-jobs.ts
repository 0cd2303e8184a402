// The control plane's watch over remote workers' follow-up jobs, beside their runs (lost-workers.ts): a job whose
// remote worker is revoked or lost (no heartbeat for WORKER_LOST_S) goes back to queued and its next attempt
// `<kind>:<job>:<attempt + 1>` is queued, so another worker runs it. If the lost worker comes back, its reports for
// the old attempt are refused (stale attempt) and it stops its tool. Jobs of the local worker are left to its own
// lease-based recovery (src/worker/follow-up/job-recovery.ts).
import type { Db } from '../db/client.js';
import { listJobsByStatus, transitionJob } from '../db/jobs-repository.js';
import { recordRunEvent } from '../db/runs-repository.js';
import { hasLiveCredential, isRemoteWorkerName } from '../db/worker-credentials-repository.js';
import { ConflictError } from '../domain/errors.js';
import type { FollowUpJob } from '../domain/follow-up-job.js';
import { markLost } from '../domain/worker-entry.js';
import { queueFollowUps } from '../queue-sync/run-placement.js';
import { runQueuesOf } from '../shared/run-queues.js';
import { listWorkers } from '../shared/worker-registry.js';
import type { LostWorkerDeps } from './lost-workers.js';

function lostReason(db: Db, job: FollowUpJob, live: ReadonlySet<string>, judging: boolean, lostMs: number) {
  if (job.worker === null || !isRemoteWorkerName(db, job.worker)) return null;
  if (!hasLiveCredential(db, job.worker)) return `its worker ${job.worker} was revoked`;
  if (judging && !live.has(job.worker))
    return `its worker ${job.worker} is lost (no heartbeat for ${lostMs / 1000} s, WORKER_LOST_S)`;
  return null;
}

/** One pass; `judging` is false during the grace after the control plane starts. Returns the job ids queued again. */
export async function moveJobsOfLostWorkers(deps: LostWorkerDeps, judging: boolean): Promise<string[]> {
  const running = listJobsByStatus(deps.db, ['running']);
  if (running.length === 0) return [];
  const entries = markLost(await listWorkers(deps.redis, deps.prefix), Date.now(), deps.lostMs);
  const live = new Set(entries.filter((e) => e.state !== 'lost').map((e) => e.name));
  const moved: FollowUpJob[] = [];
  for (const job of running) {
    const reason = lostReason(deps.db, job, live, judging, deps.lostMs);
    if (reason === null) continue;
    try {
      moved.push(transitionJob(deps.db, job.id, 'running', 'queued', { error: null }));
    } catch (e) {
      if (e instanceof ConflictError) continue; // it finished or moved meanwhile
      throw e;
    }
    const note = `follow-up job ${job.id} (${job.kind}) queued again: ${reason}`;
    recordRunEvent(deps.db, job.runId, note);
    deps.logger.warn({ jobId: job.id, worker: job.worker }, note);
  }
  // The reconciler would add them too; queued now, another worker starts at once.
  if (moved.length)
    await queueFollowUps(deps.db, runQueuesOf(deps.queue, deps.redis, deps.prefix), moved, deps.margin);
  return moved.map((j) => j.id);
}
