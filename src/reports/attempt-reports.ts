// The control plane's side of an attempt's life: start it for a job delivery, status changes the worker asks for,
// the finish, and the control poll. Each call is idempotent and every status write is compare-and-set.
import { and, eq } from 'drizzle-orm';

import type { Db } from '../db/client.js';
import { maxLogSeq } from '../db/logs-repository.js';
import { finishAttempt, listAttempts, requireRun, startAttempt, transitionRun } from '../db/runs-repository.js';
import { decideRetry } from '../domain/retry-policy.js';
import { retrySettings } from '../worker/retry-decisions.js';
import { runAttempts } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import { isFinal } from '../domain/run-status.js';
import type { Run } from '../domain/run.js';
import type { Config } from '../shared/config.js';
import type { ControlAnswer, FinishBody, StartAttemptAnswer, StartAttemptBody, TransitionBody } from '../shared/report-protocol.js';
import { getAttemptRow, requireOpenAttempt, StaleAttemptError } from './attempt-guard.js';
import { recordedCheckpoints } from './checkpoint-artifacts.js';

export type StartOutcome =
  | ({ outcome: 'started' } & StartAttemptAnswer)
  /** The run is over: the worker drops the job. */
  | { outcome: 'final'; status: string }
  /** Another attempt holds the run: the worker puts the job back for later. */
  | { outcome: 'busy'; reason: string };

/**
 * Creates the next attempt (queued or interrupted -> running) for a job delivery. The same delivery asking again
 * (a retried call) gets the same attempt; a second delivery of the job while the first trains is told `busy`.
 */
export function startAttemptReport(db: Db, worker: string, body: StartAttemptBody, now = Date.now()): StartOutcome {
  return withTransaction(db, () => {
    const run = requireRun(db, body.runId);
    const same = db.select().from(runAttempts).where(and(eq(runAttempts.runId, run.id), eq(runAttempts.deliveryId, body.deliveryId))).get();
    if (same) {
      if (same.worker !== worker || same.attempt !== run.attempt || run.status !== 'running' || same.finishedAt !== null) {
        throw new StaleAttemptError(`delivery ${body.deliveryId} started attempt ${same.attempt}, which is over`);
      }
      const from = recordedCheckpoints(db, run.id).find((c) => c.name === same.resumedFrom);
      return started(db, run, from ? { ...from, total: run.progressTotal ?? run.request.iters ?? from.iteration } : null);
    }
    if (isFinal(run.status)) return { outcome: 'final', status: run.status };
    if (run.status === 'running') return { outcome: 'busy', reason: `run ${run.id} is running attempt ${run.attempt} on ${run.worker ?? 'another worker'}` };
    if (run.notBefore !== null && run.notBefore > now) return { outcome: 'busy', reason: `run ${run.id} waits for its retry backoff until ${new Date(run.notBefore).toISOString()}` };
    if (run.cancelRequestedAt !== null) {
      const cancelled = transitionRun(db, run.id, [run.status], 'cancelled', { finishedAt: now, stopReason: 'cancelled' }, 'cancelled before it started');
      return { outcome: 'final', status: cancelled.status };
    }
    const resume = resumeFrom(db, run);
    const reason = resume ? `attempt ${run.attempt + 1} on ${worker}, resuming from iteration ${resume.iteration}` : `attempt ${run.attempt + 1} on ${worker}`;
    const moved = transitionRun(db, run.id, [run.status], 'running', { worker, startedAt: run.startedAt ?? now, mlxVersion: body.mlxVersion ?? null, error: null, stopReason: null }, reason);
    startAttempt(db, { runId: run.id, attempt: moved.attempt, worker, startedAt: now, resumedFrom: resume?.name ?? null, startIteration: resume?.iteration ?? 0 });
    db.update(runAttempts).set({ deliveryId: body.deliveryId }).where(and(eq(runAttempts.runId, run.id), eq(runAttempts.attempt, moved.attempt))).run();
    return started(db, moved, resume);
  });
}

/** The newest uploaded checkpoint short of the run's total, for a run that trained before. */
function resumeFrom(db: Db, run: Run): StartAttemptAnswer['resume'] {
  const total = run.progressTotal ?? run.request.iters;
  if (run.attempt === 0 || !total) return null;
  const cp = recordedCheckpoints(db, run.id).find((c) => c.iteration < total);
  return cp ? { ...cp, total } : null;
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
  };
}

/** A status change the worker asks for (cancel before start, a preflight failure, a worker error mid-run). */
export function transitionReport(db: Db, worker: string, runId: string, body: TransitionBody, now = Date.now()): Run {
  return withTransaction(db, () => {
    const run = requireRun(db, runId);
    if (run.status === body.to && run.attempt === body.attempt) return run; // a retried call
    if (run.attempt !== body.attempt) throw new StaleAttemptError(`run ${runId} is at attempt ${run.attempt}, not ${body.attempt}`);
    if (run.status === 'running') requireOpenAttempt(db, runId, body.attempt, worker);
    const patch = { error: body.error ?? undefined, stopReason: body.stopReason ?? undefined, finishedAt: isFinal(body.to) ? now : undefined };
    const moved = transitionRun(db, runId, body.from, body.to, patch, body.reason);
    const row = getAttemptRow(db, runId, body.attempt);
    if (run.status === 'running' && row && row.finishedAt === null) finishAttempt(db, runId, body.attempt, { outcome: body.to, error: body.error ?? null });
    return moved;
  });
}

/** Records how an attempt ended, once; a retried finish answers the run as it is. Retries follow the one policy. */
export function finishReport(db: Db, config: Config, worker: string, runId: string, body: FinishBody, now = Date.now()): Run {
  return withTransaction(db, () => {
    const row = getAttemptRow(db, runId, body.attempt);
    if (row && row.worker === worker && row.finishedAt !== null) return requireRun(db, runId);
    const { run } = requireOpenAttempt(db, runId, body.attempt, worker);
    finishAttempt(db, runId, body.attempt, { outcome: body.outcome, exitCode: body.exitCode ?? null, signal: body.signal ?? null, error: body.outcome === 'failed' ? body.error ?? null : null, finishedAt: now });
    const base = { exitCode: body.exitCode ?? null, signal: body.signal ?? null, checkpoints: body.checkpoints };
    const ended = { finishedAt: now, durationMs: now - (run.startedAt ?? now) };
    const settings = retrySettings(config);
    switch (body.outcome) {
      case 'succeeded':
        return transitionRun(db, runId, 'running', 'succeeded', { ...base, ...ended, adapterFile: body.adapterFile ?? null }, body.reason);
      case 'cancelled':
        return transitionRun(db, runId, 'running', 'cancelled', { ...base, ...ended, stopReason: body.stopReason ?? 'cancelled' }, decideRetry('stopped', 1, settings, body.reason).reason);
      case 'interrupted': {
        const d = decideRetry('interrupted', 1, settings, body.reason);
        const delayMs = d.action === 'resume' ? d.delayMs : 0;
        return transitionRun(db, runId, 'running', 'interrupted', { ...base, stopReason: body.stopReason ?? 'shutdown', notBefore: now + delayMs }, { reason: d.reason, delayMs });
      }
      case 'failed': {
        const strike = listAttempts(db, runId).filter((a) => a.outcome === 'failed').length;
        const d = decideRetry(body.retryable ? 'trainer_failure' : 'permanent', strike, settings, `attempt ${body.attempt} failed (${body.reason})`);
        const patch = { ...base, error: body.error ?? null, stopReason: body.stopReason ?? body.reason };
        if (d.action === 'retry') return transitionRun(db, runId, 'running', 'interrupted', { ...patch, notBefore: now + d.delayMs }, { reason: d.reason, delayMs: d.delayMs });
        return transitionRun(db, runId, 'running', 'failed', { ...patch, ...ended }, d.reason);
      }
    }
  });
}

/** Whether the worker training `attempt` must stop: a cancel was asked for, or the attempt is no longer current. */
export function controlAnswer(db: Db, runId: string, attempt: number): ControlAnswer {
  const run = requireRun(db, runId);
  const current = run.attempt === attempt && run.status === 'running';
  return { status: run.status, attempt: run.attempt, cancel: run.cancelRequestedAt !== null || !current };
}
