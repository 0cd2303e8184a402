// run_attempts: one row per execution of a run by a worker (start, resume point, outcome).
import { and, asc, eq, isNull } from 'drizzle-orm';

import { ConflictError } from '../domain/errors.js';
import type { AttemptOutcome, RunAttempt } from '../domain/run.js';
import type { Db } from './client.js';
import { runAttempts } from './schema.js';
import { isUniqueViolation, withCause } from './sqlite-errors.js';

export interface StartAttempt {
  runId: string;
  /** Run.attempt after the transition to running. */
  attempt: number;
  worker: string;
  startedAt?: number;
  resumedFrom?: string | null;
  startIteration?: number | null;
}

export interface FinishAttempt {
  outcome: AttemptOutcome;
  finishedAt?: number;
  exitCode?: number | null;
  signal?: string | null;
  error?: string | null;
}

/** Throws ConflictError when the attempt was already started (the pair is the primary key). */
export function startAttempt(db: Db, input: StartAttempt): RunAttempt {
  try {
    return db
      .insert(runAttempts)
      .values({
        runId: input.runId,
        attempt: input.attempt,
        worker: input.worker,
        startedAt: input.startedAt ?? Date.now(),
        resumedFrom: input.resumedFrom ?? null,
        startIteration: input.startIteration ?? null,
      })
      .returning()
      .get();
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw withCause(
        new ConflictError(`Attempt ${input.attempt} of run ${input.runId} was already started`),
        err,
      );
    }
    throw err;
  }
}

/** Records the outcome once: throws ConflictError when the attempt is missing or already finished. */
export function finishAttempt(db: Db, runId: string, attempt: number, result: FinishAttempt): RunAttempt {
  const row = db
    .update(runAttempts)
    .set({
      outcome: result.outcome,
      finishedAt: result.finishedAt ?? Date.now(),
      exitCode: result.exitCode ?? null,
      signal: result.signal ?? null,
      error: result.error ?? null,
    })
    .where(
      and(eq(runAttempts.runId, runId), eq(runAttempts.attempt, attempt), isNull(runAttempts.finishedAt)),
    )
    .returning()
    .get();
  if (row === undefined) throw new ConflictError(`Attempt ${attempt} of run ${runId} is not open`);
  return row;
}

/** Like finishAttempt, for a caller that does not know whether the attempt is open: false when it was not. */
export function closeOpenAttempt(db: Db, runId: string, attempt: number, result: FinishAttempt): boolean {
  if (attempt < 1) return false;
  try {
    finishAttempt(db, runId, attempt, result);
    return true;
  } catch (e) {
    if (e instanceof ConflictError) return false;
    throw e;
  }
}

export function listAttempts(db: Db, runId: string): RunAttempt[] {
  return db
    .select()
    .from(runAttempts)
    .where(eq(runAttempts.runId, runId))
    .orderBy(asc(runAttempts.attempt))
    .all();
}
