// Who may write for an attempt: the worker that started it, while it is the run's current, open attempt. A worker
// whose attempt was superseded (lost, revoked, or a duplicate delivery) is told so and stops its trainer.
import { and, eq } from 'drizzle-orm';

import type { Db } from '../db/client.js';
import { requireRun } from '../db/runs-repository.js';
import { runAttempts } from '../db/schema.js';
import { DomainError } from '../domain/errors.js';
import type { Run, RunAttempt } from '../domain/run.js';

/** A report from an attempt that is no longer the run's current one: the worker must stop (HTTP 409). */
export class StaleAttemptError extends DomainError {
  constructor(message: string) {
    super('stale_attempt', `stale attempt: ${message}`);
  }
}

export function getAttemptRow(db: Db, runId: string, attempt: number): RunAttempt | undefined {
  return db
    .select()
    .from(runAttempts)
    .where(and(eq(runAttempts.runId, runId), eq(runAttempts.attempt, attempt)))
    .get();
}

/** The run and its attempt, when `worker` may still write for it; throws StaleAttemptError otherwise. */
export function requireOpenAttempt(
  db: Db,
  runId: string,
  attempt: number,
  worker: string,
): { run: Run; row: RunAttempt } {
  const run = requireRun(db, runId);
  const row = getAttemptRow(db, runId, attempt);
  if (!row) throw new StaleAttemptError(`run ${runId} has no attempt ${attempt}`);
  if (row.worker !== worker)
    throw new StaleAttemptError(`attempt ${attempt} of run ${runId} belongs to worker ${row.worker}`);
  if (run.attempt !== attempt)
    throw new StaleAttemptError(`run ${runId} is at attempt ${run.attempt}, not ${attempt}`);
  if (row.finishedAt !== null || run.status !== 'running')
    throw new StaleAttemptError(`attempt ${attempt} of run ${runId} is over (run ${run.status})`);
  return { run, row };
}
