// Follow-up jobs table access: create (one or a chain, in one transaction), read, list, compare-and-set status.
import { and, asc, eq, inArray } from 'drizzle-orm';

import { ConflictError, NotFoundError } from '../domain/errors.js';
import {
  assertJobTransition,
  type FollowUpJob,
  type JobKindName,
  type JobOrigin,
  type JobStatus,
} from '../domain/follow-up-job.js';
import type { Db } from './client.js';
import { jobs } from './schema.js';
import { withTransaction } from './transaction.js';
import { enqueueJobNotice } from './webhooks-repository.js';

type JobRow = typeof jobs.$inferSelect;
const asJob = (row: JobRow): FollowUpJob => row;

export interface NewJob {
  id: string;
  runId: string;
  kind: JobKindName;
  options: Record<string, unknown>;
  origin?: JobOrigin;
  parentJobId?: string | null;
  jobDir: string;
}

export function insertJobs(db: Db, input: readonly NewJob[], now = Date.now()): FollowUpJob[] {
  if (input.length === 0) return [];
  return withTransaction(db, () =>
    db
      .insert(jobs)
      .values(
        input.map((j) => ({
          ...j,
          origin: j.origin ?? 'request',
          parentJobId: j.parentJobId ?? null,
          status: 'queued' as const,
          createdAt: now,
          updatedAt: now,
        })),
      )
      .returning()
      .all()
      .map(asJob),
  );
}

export function getJob(db: Db, id: string): FollowUpJob | undefined {
  const row = db.select().from(jobs).where(eq(jobs.id, id)).get();
  return row && asJob(row);
}

export function requireJob(db: Db, id: string): FollowUpJob {
  const job = getJob(db, id);
  if (!job) throw new NotFoundError('Job', id);
  return job;
}

/** A run's jobs, oldest first. */
export function listJobsOfRun(db: Db, runId: string): FollowUpJob[] {
  return db
    .select()
    .from(jobs)
    .where(eq(jobs.runId, runId))
    .orderBy(asc(jobs.createdAt), asc(jobs.id))
    .all()
    .map(asJob);
}

/** The jobs of several runs (sweep tables, compare page), oldest first. */
export function listJobsOfRuns(db: Db, runIds: readonly string[]): FollowUpJob[] {
  if (runIds.length === 0) return [];
  return db
    .select()
    .from(jobs)
    .where(inArray(jobs.runId, [...runIds]))
    .orderBy(asc(jobs.createdAt), asc(jobs.id))
    .all()
    .map(asJob);
}

export function listJobsByStatus(db: Db, statuses: readonly JobStatus[]): FollowUpJob[] {
  return db
    .select()
    .from(jobs)
    .where(inArray(jobs.status, [...statuses]))
    .orderBy(asc(jobs.createdAt))
    .all()
    .map(asJob);
}

export type JobPatch = Partial<
  Pick<FollowUpJob, 'result' | 'error' | 'worker' | 'startedAt' | 'finishedAt' | 'cancelRequestedAt'>
>;

/** Compare-and-set: moves a job from one of `from` to `to`; ConflictError when someone moved it first. */
export function transitionJob(
  db: Db,
  id: string,
  from: JobStatus | readonly JobStatus[],
  to: JobStatus,
  patch: JobPatch = {},
): FollowUpJob {
  const fromList: readonly JobStatus[] = typeof from === 'string' ? [from] : from;
  for (const s of fromList) assertJobTransition(s, to);
  const now = Date.now();
  return withTransaction(db, () => {
    const current = db
      .select({ status: jobs.status, attempt: jobs.attempt })
      .from(jobs)
      .where(eq(jobs.id, id))
      .get();
    if (!current) throw new NotFoundError('Job', id);
    if (!fromList.includes(current.status))
      throw new ConflictError(
        `Job ${id} is ${current.status}, not ${fromList.join(' or ')}; cannot move it to ${to}`,
      );
    const sideEffects =
      to === 'running'
        ? { attempt: current.attempt + 1, startedAt: patch.startedAt ?? now }
        : ['succeeded', 'failed', 'cancelled'].includes(to)
          ? { finishedAt: patch.finishedAt ?? now }
          : {};
    const updated = db
      .update(jobs)
      .set({
        ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
        ...sideEffects,
        status: to,
        updatedAt: now,
      })
      .where(and(eq(jobs.id, id), eq(jobs.status, current.status)))
      .returning()
      .get();
    if (!updated) throw new ConflictError(`Job ${id} changed status concurrently`);
    // Notifications of a job's end are written with its final status (the outbox; see webhooks-repository.ts).
    enqueueJobNotice(db, updated, now);
    return asJob(updated);
  });
}

export function requestJobCancel(db: Db, id: string, at = Date.now()): void {
  db.update(jobs).set({ cancelRequestedAt: at, updatedAt: at }).where(eq(jobs.id, id)).run();
}

/** Removes rows that were never queued (the queue refused them), so an answer of 503 leaves nothing behind. */
export function deleteJobs(db: Db, ids: readonly string[]): void {
  if (ids.length)
    db.delete(jobs)
      .where(inArray(jobs.id, [...ids]))
      .run();
}
