// The control plane's side of an attempt's start: for a job delivery, the next attempt begins (or the delivery is
// stale, early, or for a final run), with the checkpoint it resumes from. Idempotent: a retried start answers the same.
import path from 'node:path';

import { and, eq } from 'drizzle-orm';

import type { Db } from '../db/client.js';
import { maxLogSeq } from '../db/logs-repository.js';
import { requireRun, startAttempt, transitionRun } from '../db/runs-repository.js';
import { runAttempts } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import { isVerifiedVersion } from '../domain/flag-set.js';
import type { Run } from '../domain/run.js';
import { isFinal } from '../domain/run-status.js';
import type { StartAttemptAnswer, StartAttemptBody, StartOutcome } from '../shared/report-protocol.js';
import { StaleAttemptError } from './attempt-guard.js';
import { recordedCheckpoints } from './checkpoint-artifacts.js';

/** A job that comes back early (its run's backoff is not over) is held back unless it is this close. */
const EARLY_SLACK_MS = 50;

/**
 * Creates the next attempt (queued or interrupted -> running) for a job delivery. The same delivery asking again
 * (a retried call) gets the same attempt; a second delivery of the job while the first trains is told `busy`; a job
 * for an attempt already used is `stale`.
 */
export function startAttemptReport(
  db: Db,
  worker: string,
  body: StartAttemptBody,
  now = Date.now(),
): StartOutcome {
  return withTransaction(db, () => {
    const run = requireRun(db, body.runId);
    const same = db
      .select()
      .from(runAttempts)
      .where(and(eq(runAttempts.runId, run.id), eq(runAttempts.deliveryId, body.deliveryId)))
      .get();
    if (same) {
      if (
        same.worker !== worker ||
        same.attempt !== run.attempt ||
        run.status !== 'running' ||
        same.finishedAt !== null
      ) {
        throw new StaleAttemptError(
          `delivery ${body.deliveryId} started attempt ${same.attempt}, which is over`,
        );
      }
      const name = same.resumedFrom === null ? null : path.basename(same.resumedFrom);
      const total = run.progressTotal ?? run.request.iters ?? same.startIteration ?? 0;
      const recorded = recordedCheckpoints(db, run.id).find((c) => c.name === name);
      const resume =
        name === null
          ? null
          : {
              name,
              iteration: same.startIteration ?? 0,
              total,
              sha256: recorded?.sha256 ?? null,
              bytes: recorded?.bytes ?? null,
            };
      return started(db, run, resume);
    }
    if (isFinal(run.status)) return { outcome: 'final', status: run.status };
    const n = body.jobAttempt;
    if (run.status === 'running') {
      if (n !== undefined && n < run.attempt) return stale(run, n);
      return {
        outcome: 'busy',
        running: true,
        delayMs: null,
        reason: `run ${run.id} is running attempt ${run.attempt} on ${run.worker ?? 'another worker'}`,
      };
    }
    if (n !== undefined && n !== run.attempt + 1) return stale(run, n);
    if (run.cancelRequestedAt !== null) {
      const cancelled = transitionRun(
        db,
        run.id,
        [run.status],
        'cancelled',
        { finishedAt: now, stopReason: 'cancelled' },
        'cancelled before it started',
      );
      return { outcome: 'final', status: cancelled.status };
    }
    if (run.notBefore !== null && run.notBefore > now + EARLY_SLACK_MS) {
      return {
        outcome: 'busy',
        running: false,
        delayMs: run.notBefore - now,
        reason: `run ${run.id} waits for its retry backoff until ${new Date(run.notBefore).toISOString()}`,
      };
    }
    const resume = resumeFrom(db, run, body.checkpoints ?? []);
    const attempt = run.attempt + 1;
    const reason = resume
      ? `attempt ${attempt}, resuming from iteration ${resume.iteration}`
      : `attempt ${attempt}`;
    const moved = transitionRun(
      db,
      run.id,
      [run.status],
      'running',
      {
        worker,
        startedAt: run.startedAt ?? now,
        mlxVersion: body.mlxVersion ?? null,
        error: null,
        stopReason: null,
        ...(body.environment ? { environment: body.environment } : {}),
        warnings: withUnverified(run.warnings, body.mlxVersion ?? null),
      },
      reason,
    );
    const resumedFrom = resume ? path.join(run.adapterPath, resume.name) : null;
    startAttempt(db, {
      runId: run.id,
      attempt: moved.attempt,
      worker,
      startedAt: now,
      resumedFrom,
      startIteration: resume?.iteration ?? 0,
    });
    db.update(runAttempts)
      .set({ deliveryId: body.deliveryId })
      .where(and(eq(runAttempts.runId, run.id), eq(runAttempts.attempt, moved.attempt)))
      .run();
    return started(db, moved, resume);
  });
}

function stale(run: Run, n: number): StartOutcome {
  return {
    outcome: 'stale',
    status: run.status,
    reason: `the job is for attempt ${n}, the run is ${run.status} at attempt ${run.attempt}: another job carries it`,
  };
}

/**
 * The newest checkpoint short of the run's total, for a run that trained before: uploaded ones, and the ones the
 * worker holds on its own disk (its own earlier attempt, or the run folder it shares with the control plane).
 */
function resumeFrom(
  db: Db,
  run: Run,
  offered: NonNullable<StartAttemptBody['checkpoints']>,
): StartAttemptAnswer['resume'] {
  const total = run.progressTotal ?? run.request.iters;
  if (run.attempt === 0 || !total) return null;
  const recorded = recordedCheckpoints(db, run.id).filter((c) => c.iteration < total);
  const own = offered.filter((c) => c.iteration < total);
  const best = [...recorded, ...own].sort((a, b) => b.iteration - a.iteration)[0];
  if (!best) return null;
  const upload = recorded.find((c) => c.name === best.name);
  return {
    name: best.name,
    iteration: best.iteration,
    total,
    sha256: upload?.sha256 ?? null,
    bytes: upload?.bytes ?? null,
  };
}

function started(db: Db, run: Run, resume: StartAttemptAnswer['resume']): StartOutcome {
  return {
    outcome: 'started',
    runId: run.id,
    attempt: run.attempt,
    request: run.request,
    configYaml: run.configYaml,
    data: run.data,
    datasetSha: run.datasetSha,
    progressTotal: run.progressTotal ?? run.request.iters ?? null,
    log: { offset: run.logBytes, seq: maxLogSeq(db, run.id) },
    resume,
    argv: run.argv,
    runDir: run.runDir,
    model: run.model,
    sweepId: run.sweepId,
    priority: run.priority,
  };
}

/** A version other than the verified ones runs, with a warning on the run (once). */
function withUnverified(warnings: Run['warnings'], version: string | null): Run['warnings'] {
  if (version === null || isVerifiedVersion(version)) return warnings;
  const message = `unverified mlx-lm-lora ${version}: commands were checked against its own parser, output parsing may miss metrics`;
  return warnings.some((w) => w.message === message)
    ? warnings
    : [...warnings, { path: 'mlx-lm-lora', message }];
}
