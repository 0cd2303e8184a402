// The job processor: parse, load, return if final, transition to running, execute, record the outcome (try/finally).
import fs from 'node:fs';
import path from 'node:path';

import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';

import type { Db } from '../db/client.js';
import { finishAttempt, getRun, startAttempt, transitionRun } from '../db/runs-repository.js';
import { buildCommand } from '../domain/build-command.js';
import type { Run } from '../domain/run.js';
import { isFinal } from '../domain/run-status.js';
import type { Config } from '../shared/config.js';
import { JOB_PAYLOADS } from '../shared/queue.js';
import { executeTrainer, type StopReason } from './execute.js';
import { decideOutcome, type Outcome } from './outcome.js';
import { newestCheckpoint, type ResumePoint } from './resume-point.js';
import { RunOutputSink } from './run-output-sink.js';

export interface ProcessorDeps {
  config: Config;
  db: Db;
  logger: Logger;
  /** mlx-lm-lora's version, or the preflight's error when it is not installed. */
  preflight: { version: string | null; error: string | null };
  resolveData: (data: string) => Promise<string>;
  /** Runs this worker is training, so cancel and shutdown can stop them. */
  active: Map<string, AbortController>;
  /** Extra environment for the trainer (tests put the stand-in on PYTHONPATH). */
  trainerEnv?: Record<string, string>;
}

const FINAL_ATTEMPT_DELAY_MS = 1000;

export function createProcessor(deps: ProcessorDeps) {
  return async function processRun(job: Job, token?: string): Promise<{ status: string }> {
    const parsed = JOB_PAYLOADS.train.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`Invalid job payload: ${parsed.error.message}`);
    const log = deps.logger.child({ runId: parsed.data.runId, jobId: job.id });
    let run = getRun(deps.db, parsed.data.runId);
    if (!run) throw new UnrecoverableError(`Run ${parsed.data.runId} does not exist`);
    // Retries and redelivered jobs must be idempotent.
    if (isFinal(run.status)) return { status: run.status };
    if (run.cancelRequestedAt) {
      transitionRun(deps.db, run.id, [run.status], 'cancelled', { finishedAt: Date.now(), stopReason: 'cancelled' }, 'cancelled before it started');
      return { status: 'cancelled' };
    }
    if (run.status === 'running') {
      // The job came back after its worker died (stalled): that attempt is over.
      run = transitionRun(deps.db, run.id, 'running', 'interrupted', { stopReason: 'worker_lost' }, 'the worker running it stopped answering');
      finishAttempt(deps.db, run.id, run.attempt, { outcome: 'interrupted', error: 'worker lost' });
    }
    if (deps.preflight.error) {
      fail(deps.db, run, `mlx-lm-lora is not usable on worker ${deps.config.workerName}: ${deps.preflight.error}`, 'preflight');
      throw new UnrecoverableError(deps.preflight.error);
    }
    const outcome = await runAttempt(deps, run, log);
    return settle(deps, run.id, outcome, job, token, log);
  };
}

function fail(db: Db, run: Run, error: string, reason: string): void {
  transitionRun(db, run.id, [run.status], 'failed', { error, stopReason: reason, finishedAt: Date.now() }, reason);
}

async function runAttempt(deps: ProcessorDeps, run: Run, log: Logger): Promise<Outcome> {
  const attempt = run.attempt + 1;
  const resume = await resumePoint(run);
  const dataDir = await deps.resolveData(run.data);
  const command = resume
    ? buildCommand(run.request, {
        python: deps.config.mlxPython,
        runDir: run.runDir,
        dataDir,
        resume: { adapterFile: resume.adapterFile, remainingIterations: Math.max(1, run.progressTotal! - resume.iteration) },
      })
    : { argv: run.argv, env: buildCommand(run.request, { python: deps.config.mlxPython, runDir: run.runDir, dataDir }).env };
  const now = Date.now();
  const running = transitionRun(
    deps.db,
    run.id,
    [run.status],
    'running',
    { attempt, worker: deps.config.workerName, startedAt: run.startedAt ?? now, mlxVersion: deps.preflight.version, error: null, stopReason: null },
    resume ? `attempt ${attempt}, resuming from iteration ${resume.iteration}` : `attempt ${attempt}`,
  );
  startAttempt(deps.db, { runId: run.id, attempt, worker: deps.config.workerName, startedAt: now, resumedFrom: resume?.adapterFile ?? null, startIteration: resume?.iteration ?? 0 });
  fs.mkdirSync(path.join(run.runDir, 'adapters'), { recursive: true });
  const sink = new RunOutputSink({
    db: deps.db,
    runId: run.id,
    attempt,
    logFile: path.join(run.runDir, 'train.log'),
    logCapBytes: deps.config.logCapBytes,
    iterationOffset: resume?.iteration ?? 0,
    total: resume ? running.progressTotal : null,
  });
  sink.line('system', `[mlxq] attempt ${attempt} on ${deps.config.workerName}: ${command.argv.join(' ')}`);
  const controller = new AbortController();
  deps.active.set(run.id, controller);
  log.info({ attempt, resumeFrom: resume?.iteration }, 'trainer starting');
  let outcome: Outcome | undefined;
  try {
    const result = await executeTrainer({
      argv: command.argv,
      env: { ...command.env, ...deps.trainerEnv },
      cwd: run.runDir,
      pidFile: path.join(run.runDir, 'trainer.pid'),
      onLine: (stream, line) => sink.line(stream, line),
      signal: controller.signal,
      timeLimitMs: deps.config.runTimeLimitMs,
      idleLimitMs: deps.config.runIdleLimitMs,
      killGraceMs: deps.config.killGraceMs,
      caffeinate: deps.config.caffeinate,
    });
    const summary = await sink.close();
    outcome = decideOutcome(result, summary, fs.existsSync(path.join(run.runDir, 'adapters', 'adapters.safetensors')));
    record(deps, run.id, attempt, outcome, result);
    log.info({ outcome: outcome.status, exitCode: result.exitCode, signal: result.signal }, 'trainer ended');
    return outcome;
  } finally {
    deps.active.delete(run.id);
    if (!outcome) {
      // An unexpected error in the worker itself: leave the run resumable rather than running forever.
      await sink.close().catch(() => undefined);
      const current = getRun(deps.db, run.id);
      if (current?.status === 'running') {
        transitionRun(deps.db, run.id, 'running', 'interrupted', { stopReason: 'worker_error' }, 'worker error');
      }
    }
  }
}

async function resumePoint(run: Run): Promise<ResumePoint | null> {
  if (run.attempt === 0 || !run.progressTotal) return null;
  const cp = await newestCheckpoint(path.join(run.runDir, 'adapters'));
  return cp && cp.iteration < run.progressTotal ? cp : null;
}

function record(deps: ProcessorDeps, runId: string, attempt: number, outcome: Outcome, result: { exitCode: number | null; signal: string | null; durationMs: number }): void {
  const now = Date.now();
  const run = getRun(deps.db, runId)!;
  const base = { exitCode: result.exitCode, signal: result.signal };
  finishAttempt(deps.db, runId, attempt, { outcome: outcome.status, exitCode: result.exitCode, signal: result.signal, error: outcome.status === 'failed' ? outcome.error : null });
  const adapters = path.join(run.runDir, 'adapters');
  switch (outcome.status) {
    case 'succeeded': {
      const checkpoints = fs.readdirSync(adapters).filter((n) => /^\d{7}_adapters\.safetensors$/.test(n)).sort();
      transitionRun(deps.db, runId, 'running', 'succeeded', { ...base, adapterFile: path.join(adapters, 'adapters.safetensors'), checkpoints, finishedAt: now, durationMs: now - (run.startedAt ?? now) }, 'trainer exited 0 and wrote adapters.safetensors');
      break;
    }
    case 'cancelled':
      transitionRun(deps.db, runId, 'running', 'cancelled', { ...base, stopReason: 'cancelled', finishedAt: now, durationMs: now - (run.startedAt ?? now) }, outcome.reason);
      break;
    case 'interrupted':
      transitionRun(deps.db, runId, 'running', 'interrupted', { ...base, stopReason: 'shutdown' }, outcome.reason);
      break;
    case 'failed': {
      const retry = outcome.retryable && attempt < deps.config.trainerFailureAttempts;
      if (retry) transitionRun(deps.db, runId, 'running', 'interrupted', { ...base, error: outcome.error, stopReason: outcome.reason }, `attempt ${attempt} failed; retrying`);
      else transitionRun(deps.db, runId, 'running', 'failed', { ...base, error: outcome.error, stopReason: outcome.reason, finishedAt: now, durationMs: now - (run.startedAt ?? now) }, outcome.reason);
      break;
    }
  }
}

/** Tells BullMQ how the job ends: done, failed for good, or back in the queue to resume. */
async function settle(deps: ProcessorDeps, runId: string, outcome: Outcome, job: Job, token: string | undefined, log: Logger) {
  const run = getRun(deps.db, runId)!;
  if (run.status === 'interrupted') {
    log.info('re-queueing the run to resume');
    await job.moveToDelayed(Date.now() + FINAL_ATTEMPT_DELAY_MS, token);
    throw new DelayedError();
  }
  if (run.status === 'failed') throw new UnrecoverableError(run.error ?? 'failed');
  return { status: run.status, outcome: outcome.status };
}

export type { StopReason };
