// The control plane's side of an attempt's life: start it for a job delivery, status changes the worker asks for,
// the finish, worker errors, and the control poll. Each call is idempotent and every status write is compare-and-set.
// The local worker calls these directly (src/worker/in-process-reporter.ts), a remote one over HTTP.
import path from 'node:path';

import { and, eq } from 'drizzle-orm';

import type { Db } from '../db/client.js';
import { maxLogSeq } from '../db/logs-repository.js';
import { maxMetricValue } from '../db/metrics-repository.js';
import {
  finishAttempt,
  getRun,
  listAttempts,
  recordRunEvent,
  requireRun,
  startAttempt,
  transitionRun,
} from '../db/runs-repository.js';
import { runAttempts } from '../db/schema.js';
import { withTransaction } from '../db/transaction.js';
import { ADAPTER_FILE } from '../domain/checkpoint-names.js';
import { isVerifiedVersion } from '../domain/flag-set.js';
import { decideRetry } from '../domain/retry-policy.js';
import type { Run } from '../domain/run.js';
import { isFinal } from '../domain/run-status.js';
import type { Config } from '../shared/config.js';
import type {
  ControlAnswer,
  FinishBody,
  RunEventBody,
  RunState,
  StartAttemptAnswer,
  StartAttemptBody,
  StartOutcome,
  TransitionBody,
  WorkerErrorBody,
} from '../shared/report-protocol.js';
import { getAttemptRow, requireOpenAttempt, StaleAttemptError } from './attempt-guard.js';
import { recordedCheckpoints } from './checkpoint-artifacts.js';
import { earlyStopOf, forgetEarlyStop } from './early-stops.js';
import { decideOnOom, type OomDecision } from './oom-decision.js';
import { recordWorkerError, retrySettings } from './retry-decisions.js';

export type { StartOutcome };

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

export function runState(run: Run): RunState {
  return {
    status: run.status,
    attempt: run.attempt,
    priority: run.priority,
    notBefore: run.notBefore,
    error: run.error,
    request: run.request,
    memory: run.memory,
  };
}

/** A status change the worker asks for (cancel before start, a preflight failure, a worker error mid-run). */
export function transitionReport(
  db: Db,
  worker: string,
  runId: string,
  body: TransitionBody,
  now = Date.now(),
): Run {
  return withTransaction(db, () => {
    const run = requireRun(db, runId);
    if (run.status === body.to && run.attempt === body.attempt) return run; // a retried call
    if (run.attempt !== body.attempt)
      throw new StaleAttemptError(`run ${runId} is at attempt ${run.attempt}, not ${body.attempt}`);
    if (run.status === 'running') requireOpenAttempt(db, runId, body.attempt, worker);
    const patch = {
      error: body.error ?? undefined,
      stopReason: body.stopReason ?? undefined,
      finishedAt: isFinal(body.to) ? now : undefined,
    };
    const moved = transitionRun(db, runId, body.from, body.to, patch, body.reason);
    const row = getAttemptRow(db, runId, body.attempt);
    if (run.status === 'running' && row && row.finishedAt === null)
      finishAttempt(db, runId, body.attempt, { outcome: body.to, error: body.error ?? null });
    return moved;
  });
}

/** The checkpoints a finished attempt leaves: the worker's own files and every uploaded one, oldest first. */
function checkpointNames(db: Db, runId: string, own: readonly string[]): string[] {
  const names = new Set([...own, ...recordedCheckpoints(db, runId).map((c) => c.name)]);
  return [...names].sort();
}

/**
 * Records how an attempt ended, once; a retried finish answers the run as it is. Retries follow the one policy; an
 * out-of-memory failure gets its record and advice, and with on_oom "reduce" a smaller next attempt (`oom`, decided
 * before the transaction because it reads the model: see finishWithOom).
 */
export function finishReport(
  db: Db,
  config: Config,
  worker: string,
  runId: string,
  body: FinishBody,
  now = Date.now(),
  oom: OomDecision | null = null,
): Run {
  return withTransaction(db, () => {
    const row = getAttemptRow(db, runId, body.attempt);
    if (row && row.worker === worker && row.finishedAt !== null) return requireRun(db, runId);
    const { run } = requireOpenAttempt(db, runId, body.attempt, worker);
    forgetEarlyStop(db, runId);
    finishAttempt(db, runId, body.attempt, {
      outcome: body.outcome,
      exitCode: body.exitCode ?? null,
      signal: body.signal ?? null,
      error: body.outcome === 'failed' ? (body.error ?? null) : null,
      finishedAt: now,
    });
    const base = {
      exitCode: body.exitCode ?? null,
      signal: body.signal ?? null,
      checkpoints: checkpointNames(db, runId, body.checkpoints),
      peakMemoryGb: maxMetricValue(db, runId, 'peak_memory_gb'),
    };
    const ended = { finishedAt: now, durationMs: now - (run.startedAt ?? now) };
    const settings = retrySettings(config);
    switch (body.outcome) {
      case 'succeeded':
        return transitionRun(
          db,
          runId,
          'running',
          'succeeded',
          { ...base, ...ended, adapterFile: path.join(run.adapterPath, ADAPTER_FILE) },
          body.reason,
        );
      case 'cancelled':
        return transitionRun(
          db,
          runId,
          'running',
          'cancelled',
          { ...base, ...ended, stopReason: body.stopReason ?? 'cancelled' },
          decideRetry('stopped', 1, settings, body.reason).reason,
        );
      case 'interrupted': {
        const d = decideRetry('interrupted', 1, settings, body.reason);
        const delayMs = d.action === 'resume' ? d.delayMs : 0;
        return transitionRun(
          db,
          runId,
          'running',
          'interrupted',
          { ...base, stopReason: body.stopReason ?? 'shutdown', notBefore: now + delayMs },
          { reason: d.reason, delayMs },
        );
      }
      case 'failed': {
        if (oom) {
          const patch = {
            ...base,
            error: oom.error,
            stopReason: body.stopReason ?? body.reason,
            outOfMemory: oom.outOfMemory,
          };
          // The policy decides whether (on_oom, reductions tried); decideOnOom made the smaller request, if one is left.
          const d = decideRetry('out_of_memory', 1, settings, 'out of memory', undefined, {
            onOom: run.request.on_oom,
            reductionsTried: run.outOfMemory?.reductions.length ?? 0,
          });
          if (d.action === 'retry' && oom.retry)
            return transitionRun(
              db,
              runId,
              'running',
              'interrupted',
              { ...patch, request: oom.retry.request, argv: oom.retry.argv },
              oom.retry.reason,
            );
          return transitionRun(
            db,
            runId,
            'running',
            'failed',
            { ...patch, ...ended },
            d.action === 'retry' ? 'out of memory; on_oom reduce: nothing left to reduce' : d.reason,
          );
        }
        // Strikes: this run's failed attempts so far, this one included.
        const strike = listAttempts(db, runId).filter((a) => a.outcome === 'failed').length;
        const d = decideRetry(
          body.retryable ? 'trainer_failure' : 'permanent',
          strike,
          settings,
          `attempt ${body.attempt} failed (${body.reason})`,
        );
        const patch = { ...base, error: body.error ?? null, stopReason: body.stopReason ?? body.reason };
        if (d.action === 'retry')
          return transitionRun(
            db,
            runId,
            'running',
            'interrupted',
            { ...patch, notBefore: now + d.delayMs },
            { reason: d.reason, delayMs: d.delayMs },
          );
        return transitionRun(db, runId, 'running', 'failed', { ...patch, ...ended }, d.reason);
      }
    }
  });
}

/** Carries "about the run itself" from the worker to the retry policy (as a DomainError, it fails the run at once). */
export class PermanentWorkerError extends Error {
  readonly permanent = true;
}

/**
 * An error of the worker itself while it handled the run (never the trainer's): an open attempt is closed and the
 * retry policy decides (see retry-decisions.ts). A report from a worker whose attempt is not the current one is stale.
 */
export function workerErrorReport(
  db: Db,
  config: Config,
  worker: string,
  runId: string,
  body: WorkerErrorBody,
): Run | null {
  return withTransaction(db, () => {
    const run = getRun(db, runId);
    if (!run) return null;
    if (body.attempt !== null) {
      const row = getAttemptRow(db, runId, body.attempt);
      // Already recorded (a retried call), or the attempt is over for another reason: nothing to change.
      if (row?.worker === worker && row.finishedAt !== null) return run;
      requireOpenAttempt(db, runId, body.attempt, worker);
      forgetEarlyStop(db, runId);
    } else if (run.status === 'running') return run; // before its attempt started; the run is someone else's now
    const error = body.permanent ? new PermanentWorkerError(body.message) : new Error(body.message);
    return recordWorkerError(db, config, runId, error, worker).run;
  });
}

/** A problem the worker met on the run that does not stop it; recorded as a run event. */
export function runEventReport(db: Db, worker: string, runId: string, body: RunEventBody): void {
  requireRun(db, runId);
  if (body.attempt !== null && getAttemptRow(db, runId, body.attempt)?.worker !== worker)
    throw new StaleAttemptError(`attempt ${body.attempt} of run ${runId} is not ${worker}'s`);
  recordRunEvent(db, runId, body.message);
}

/** Whether the worker training `attempt` must stop: a cancel, the sweep's median rule, or another attempt took over. */
export function controlAnswer(db: Db, runId: string, attempt: number): ControlAnswer {
  const run = requireRun(db, runId);
  const current = run.attempt === attempt && run.status === 'running';
  const early = current ? earlyStopOf(db, runId, attempt) : null;
  const stop = !current
    ? { stopReason: 'superseded' as const, reason: `the run is ${run.status} at attempt ${run.attempt}` }
    : run.cancelRequestedAt !== null
      ? { stopReason: 'cancelled' as const, reason: 'cancelled by request' }
      : early;
  return { status: run.status, attempt: run.attempt, cancel: stop !== null, stop };
}

/**
 * finishReport for a finish that may be out of memory: the OOM record and the smaller retry are decided first (they
 * read the model's files, so not inside the transaction). `resolveData` is the control plane's own.
 */
export async function finishAttemptReport(
  db: Db,
  config: Config,
  worker: string,
  runId: string,
  body: FinishBody,
  resolveData: (data: string) => Promise<string>,
): Promise<Run> {
  let oom: OomDecision | null = null;
  const row = getAttemptRow(db, runId, body.attempt);
  if (body.outcome === 'failed' && body.outOfMemory && row?.finishedAt === null) {
    const run = requireRun(db, runId);
    const dataDir = await resolveData(run.data).catch(() => run.data);
    oom = await decideOnOom(db, config, run, body.attempt, body.outOfMemory, dataDir);
  }
  return finishReport(db, config, worker, runId, body, Date.now(), oom);
}

/** A version other than the verified ones runs, with a warning on the run (once). */
function withUnverified(warnings: Run['warnings'], version: string | null): Run['warnings'] {
  if (version === null || isVerifiedVersion(version)) return warnings;
  const message = `unverified mlx-lm-lora ${version}: commands were checked against its own parser, output parsing may miss metrics`;
  return warnings.some((w) => w.message === message)
    ? warnings
    : [...warnings, { path: 'mlx-lm-lora', message }];
}
