// Renders what a notification says: the run (or sweep) summary, its link, and for a sweep its best run.
import { sweepDetail } from '../app/sweep-results.js';
import type { Db } from '../db/client.js';
import { getJob } from '../db/jobs-repository.js';
import { getRun } from '../db/runs-repository.js';
import { getSweep } from '../db/sweeps-repository.js';
import { runNotice, type WebhookEvent } from '../domain/webhooks.js';

/** Null when the subject is gone (a run deleted after its notice was queued): nothing to say any more. */
export function renderNotice(
  db: Db,
  d: { id: string; event: WebhookEvent; subject: string; createdAt: number },
  publicUrl: string,
): Record<string, unknown> | null {
  const head = { event: d.event, delivery: d.id, at: new Date(d.createdAt).toISOString() };
  if (d.event === 'sweep.done') {
    const sweep = getSweep(db, d.subject);
    if (!sweep) return null;
    const detail = sweepDetail(db, sweep);
    const bestRun = detail.best ? getRun(db, detail.best.runId) : undefined;
    return {
      ...head,
      sweep: {
        id: sweep.id,
        name: sweep.name,
        status: detail.status,
        counts: detail.counts,
        metric: { name: sweep.metricName, goal: sweep.metricGoal },
      },
      best:
        detail.best && bestRun
          ? { ...detail.best, run: runNotice(bestRun), link: `${publicUrl}/ui/runs/${bestRun.id}` }
          : null,
      link: `${publicUrl}/ui/sweeps/${sweep.id}`,
    };
  }
  if (d.event === 'job.succeeded' || d.event === 'job.failed') {
    const job = getJob(db, d.subject);
    const run = job ? getRun(db, job.runId) : undefined;
    if (!job || !run) return null;
    return {
      ...head,
      job: {
        id: job.id,
        kind: job.kind,
        status: job.status,
        error: job.error?.split('\n', 1)[0] ?? null,
        result: job.result,
      },
      run: runNotice(run),
      link: `${publicUrl}/ui/runs/${run.id}`,
    };
  }
  const run = getRun(db, d.subject);
  if (!run) return null;
  return { ...head, run: runNotice(run), link: `${publicUrl}/ui/runs/${run.id}` };
}
