// The "on final status" work of follow-up jobs: a run that succeeds gets the rows of its `after` jobs, and a sweep
// whose last member just ended gets the rows of its `best_after` jobs for its best run. SQLite rows only, written in
// the transaction of the final status; the worker's follow-up outbox queues them (src/worker/follow-up/outbox.ts).

import { and, eq, inArray, sql } from 'drizzle-orm';

import type { JobOrigin } from '../domain/follow-up-job.js';
import type { FollowUpRequest } from '../domain/follow-up-request.js';
import { newId } from '../domain/ids.js';
import type { Run } from '../domain/run.js';
import { jobDirOf } from '../domain/run-folder.js';
import { ACTIVE_STATUSES } from '../domain/run-status.js';
import { defaultSplit } from '../domain/sweep-spec.js';
import type { Db } from './client.js';
import { insertJobs, type NewJob } from './jobs-repository.js';
import { finalAndBestMetric } from './metrics-repository.js';
import { jobs, runs } from './schema.js';
import { getSweep } from './sweeps-repository.js';

function rowsFor(
  run: Pick<Run, 'id' | 'runDir'>,
  requests: readonly FollowUpRequest[],
  origin: JobOrigin,
): NewJob[] {
  const rows: NewJob[] = [];
  let fuseId: string | null = null;
  for (const req of requests) {
    const id = newId('job');
    const { kind, ...options } = req;
    // An export starts from a verified fuse: one is made first in the same chain when the list has none before it.
    let parent: string | null = null;
    if (kind === 'export') {
      if (!fuseId) {
        fuseId = newId('job');
        rows.push({
          id: fuseId,
          runId: run.id,
          kind: 'fuse',
          options: { dequantize: 'auto', verify: { count: 3, max_tokens: 64 } },
          origin,
          jobDir: jobDirOf(run.runDir, fuseId),
        });
      }
      parent = fuseId;
    }
    rows.push({
      id,
      runId: run.id,
      kind,
      options,
      origin,
      parentJobId: parent,
      jobDir: jobDirOf(run.runDir, id),
    });
    if (kind === 'fuse') fuseId = id;
  }
  return rows;
}

/** The succeeded member with the best final value of the sweep's metric (ties: the lower index). */
function bestMember(
  db: Db,
  sweepId: string,
  metric: { name: string; split: 'train' | 'val' | 'test'; goal: 'min' | 'max' },
): Pick<Run, 'id' | 'runDir'> | null {
  const members = db
    .select({ id: runs.id, runDir: runs.runDir, index: runs.sweepIndex })
    .from(runs)
    .where(and(eq(runs.sweepId, sweepId), eq(runs.status, 'succeeded')))
    .all();
  const values = new Map(
    finalAndBestMetric(
      db,
      members.map((m) => m.id),
      metric.name,
      metric.split,
      metric.goal,
    ).map((v) => [v.runId, v.final?.value]),
  );
  let best: (typeof members)[number] | null = null;
  for (const m of members.sort((a, b) => (a.index ?? 0) - (b.index ?? 0))) {
    const v = values.get(m.id);
    if (v === null || v === undefined || !Number.isFinite(v)) continue;
    const b = best ? values.get(best.id)! : null;
    if (b === null || (metric.goal === 'min' ? v < b : v > b)) best = m;
  }
  return best;
}

export function queueFollowUpsOnFinal(db: Db, event: { run: Run }): void {
  const { run } = event;
  if (run.status === 'succeeded' && run.request.after?.length)
    insertJobs(db, rowsFor(run, run.request.after, 'after'));
  if (!run.sweepId) return;
  const active = db
    .select({ n: sql<number>`count(*)` })
    .from(runs)
    .where(and(eq(runs.sweepId, run.sweepId), inArray(runs.status, [...ACTIVE_STATUSES])))
    .get();
  if ((active?.n ?? 0) > 0) return;
  const sweep = getSweep(db, run.sweepId);
  const bestAfter = (sweep?.spec as { best_after?: FollowUpRequest[] } | undefined)?.best_after;
  if (!sweep || !bestAfter?.length) return;
  // Once per sweep: a later final write (none is expected) finds the rows made already.
  const made = db
    .select({ id: jobs.id })
    .from(jobs)
    .innerJoin(runs, eq(runs.id, jobs.runId))
    .where(and(eq(runs.sweepId, sweep.id), eq(jobs.origin, 'best_after')))
    .get();
  if (made) return;
  const name = sweep.metricName ?? 'loss';
  const split =
    (sweep.spec as { metric?: { split?: 'train' | 'val' | 'test' } }).metric?.split ?? defaultSplit(name);
  const best = bestMember(db, sweep.id, { name, split, goal: sweep.metricGoal ?? 'min' });
  if (best) insertJobs(db, rowsFor(best, bestAfter, 'best_after'));
}
