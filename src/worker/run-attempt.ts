// One attempt of a run: build the command (resuming from the newest checkpoint), move the run to running, execute
// the trainer with its output sink, stop it on cancel or shutdown, and record how the attempt ended.
import fs from 'node:fs';
import path from 'node:path';

import type { Logger } from 'pino';

import type { Db } from '../db/client.js';
import { maxMetricValue } from '../db/metrics-repository.js';
import { withTransaction } from '../db/transaction.js';
import { finishAttempt, getRun, listAttempts, recordRunEvent, startAttempt, transitionRun, updateRunProgress } from '../db/runs-repository.js';
import { buildCommand, TRAINER_ENV } from '../domain/build-command.js';
import { ConflictError } from '../domain/errors.js';
import { decideRetry } from '../domain/retry-policy.js';
import type { Run } from '../domain/run.js';
import type { Config } from '../shared/config.js';
import { attemptAdapterDir, settleAttemptDir, settleLeftoverAttemptDirs, withAdapterPath } from './attempt-adapters.js';
import { createEarlyStopCheck } from './early-stop-check.js';
import { type ExecuteResult, executeTrainer } from './execute.js';
import { trainerPidFile } from './leftover-trainer.js';
import { decideOnOom } from './oom-retry.js';
import { decideOutcome, type Outcome } from './outcome.js';
import { retrySettings } from './retry-decisions.js';
import { listCheckpoints, newestCheckpoint, type ResumePoint } from './resume-point.js';
import { RunOutputSink } from './run-output-sink.js';
import { startLeaseHeartbeat } from './run-lease.js';

export interface AttemptDeps {
  config: Config;
  db: Db;
  preflight: { version: string | null; error: string | null };
  resolveData: (data: string) => Promise<string>;
  active: Map<string, AbortController>;
  /** Process groups of running trainers, so a forced exit can still stop them. */
  trainers?: Set<number>;
  /** Aborted when the worker shuts down and stops its training (requeue mode, or the wait deadline passed). */
  shutdown: AbortSignal;
  trainerEnv?: Record<string, string>;
}

/** Cancels flagged in SQLite are seen within this even when the pub/sub signal was lost (Redis down at the API). */
const CANCEL_POLL_MS = 1000;

interface PreparedAttempt {
  argv: string[];
  env: Record<string, string>;
  adapters: string;
  /** Set for a resumed attempt: its own adapter folder (see attempt-adapters.ts). */
  attemptDir: string | null;
  resume: (ResumePoint & { total: number }) | null;
}

/** Settles folders a dead worker's attempts left, finds the resume point and builds the attempt's command. */
async function prepareAttempt(deps: AttemptDeps, run: Run, attempt: number): Promise<PreparedAttempt> {
  const adapters = path.join(run.runDir, 'adapters');
  const starts = new Map(listAttempts(deps.db, run.id).map((a) => [a.attempt, a.startIteration]));
  await settleLeftoverAttemptDirs(adapters, (n) => starts.get(n) ?? null);
  const resume = await resumePoint(run);
  const dataDir = await deps.resolveData(run.data);
  const ctx = { python: deps.config.mlxPython, runDir: run.runDir, dataDir };
  // A first attempt runs the command recorded at submit; only a resume needs a new one.
  if (!resume) return { argv: run.argv, env: { ...TRAINER_ENV }, adapters, attemptDir: null, resume };
  const remainingIterations = Math.max(1, resume.total - resume.iteration);
  const command = buildCommand(run.request, { ...ctx, resume: { adapterFile: resume.adapterFile, remainingIterations } });
  const attemptDir = attemptAdapterDir(adapters, attempt);
  return { argv: withAdapterPath(command.argv, attemptDir), env: command.env, adapters, attemptDir, resume };
}

/** Moves the run to running and opens the attempt; false when a cancel moved the run first. */
function enterRunning(deps: AttemptDeps, run: Run, attempt: number, resume: ResumePoint | null): boolean {
  const now = Date.now();
  const reason = resume ? `attempt ${attempt}, resuming from iteration ${resume.iteration}` : `attempt ${attempt}`;
  const patch = { attempt, worker: deps.config.workerName, startedAt: run.startedAt ?? now, mlxVersion: deps.preflight.version, error: null, stopReason: null };
  try {
    // One transaction: a crash between the two writes would leave a running run without its attempt row.
    withTransaction(deps.db, () => {
      transitionRun(deps.db, run.id, [run.status], 'running', patch, reason);
      startAttempt(deps.db, { runId: run.id, attempt, worker: deps.config.workerName, startedAt: now, resumedFrom: resume?.adapterFile ?? null, startIteration: resume?.iteration ?? 0 });
    });
  } catch (e) {
    if (e instanceof ConflictError) return false;
    throw e;
  }
  return true;
}

/** Runs one attempt; null when the run left its status before the attempt could start (a cancel won the race). */
export async function runAttempt(deps: AttemptDeps, run: Run, log: Logger): Promise<Outcome | null> {
  const attempt = run.attempt + 1;
  const { argv, env, adapters, attemptDir, resume } = await prepareAttempt(deps, run, attempt);
  if (!enterRunning(deps, run, attempt, resume)) return null;
  fs.mkdirSync(attemptDir ?? adapters, { recursive: true });
  // The API only records the run; its folder and config.yaml are made here, where the trainer reads them.
  const configPath = path.join(run.runDir, 'config.yaml');
  if (!fs.existsSync(configPath)) fs.writeFileSync(configPath, run.configYaml);
  const offset = resume?.iteration ?? 0;
  const controller = new AbortController();
  // Set when the sweep's median stopping rule stops this run: the run event's reason.
  let earlyStop: string | undefined;
  const earlyStopCheck = createEarlyStopCheck(deps.db, run, (reason) => {
    earlyStop = reason;
    controller.abort('early_stopped');
  }, log);
  // Problems on the resume path (pid file, lease) are logged and recorded on the run, never swallowed.
  const problem = (message: string) => {
    log.warn(message);
    try {
      recordRunEvent(deps.db, run.id, message);
    } catch (err) {
      log.error({ err }, 'could not record a problem on the run');
    }
  };
  const sink = new RunOutputSink({
    db: deps.db,
    runId: run.id,
    attempt,
    logFile: path.join(run.runDir, 'train.log'),
    logCapBytes: deps.config.logCapBytes,
    iterationOffset: offset,
    // Known from the request at submit (iters, or epochs over the train rows) until upstream prints its own count.
    total: resume?.total ?? run.progressTotal,
    onMetrics: earlyStopCheck?.onMetrics,
    onProblem: problem,
  });
  sink.line('system', `[mlxq] attempt ${attempt} on ${deps.config.workerName}: ${argv.join(' ')}`);
  deps.active.set(run.id, controller);
  const stopWatching = watchForStop(deps, run.id, controller);
  const stopHeartbeat = startLeaseHeartbeat(run.runDir, undefined, problem);
  log.info({ attempt, resumeFrom: resume?.iteration }, 'trainer starting');
  let outcome: Outcome | undefined;
  let trainerPid: number | undefined;
  try {
    const result = await executeTrainer({
      argv,
      env: { ...env, ...deps.trainerEnv },
      cwd: run.runDir,
      pidFile: trainerPidFile(run.runDir),
      onLine: (stream, line) => sink.line(stream, line),
      onProblem: problem,
      onSpawn: (pid) => {
        trainerPid = pid;
        deps.trainers?.add(pid);
        updateRunProgress(deps.db, run.id, { trainerPid: pid });
      },
      signal: controller.signal,
      timeLimitMs: deps.config.runTimeLimitMs,
      idleLimitMs: deps.config.runIdleLimitMs,
      killGraceMs: deps.config.killGraceMs,
      caffeinate: deps.config.caffeinate,
    });
    const summary = await sink.close();
    const wroteAdapter = fs.existsSync(path.join(attemptDir ?? adapters, 'adapters.safetensors'));
    if (attemptDir) await settleAttemptDir(adapters, attemptDir, offset);
    outcome = decideOutcome(result, summary, wroteAdapter, earlyStop);
    await record(deps, run.id, attempt, outcome, result);
    log.info({ outcome: outcome.status, exitCode: result.exitCode, signal: result.signal, stopReason: result.stopReason }, 'trainer ended');
    return outcome;
  } finally {
    earlyStopCheck?.close();
    stopWatching();
    stopHeartbeat();
    deps.active.delete(run.id);
    if (trainerPid !== undefined) deps.trainers?.delete(trainerPid);
    if (!outcome) await leaveResumable(deps, run.id, attempt, sink, log);
  }
}

/** After an unexpected error in the worker itself: the run is left resumable rather than running forever. */
async function leaveResumable(deps: AttemptDeps, runId: string, attempt: number, sink: RunOutputSink, log: Logger): Promise<void> {
  await sink.close().catch((err: unknown) => log.error({ err }, 'closing the output sink failed'));
  if (getRun(deps.db, runId)?.status === 'running') {
    transitionRun(deps.db, runId, 'running', 'interrupted', { stopReason: 'worker_error' }, 'worker error');
  }
  if (listAttempts(deps.db, runId).some((a) => a.attempt === attempt && a.finishedAt === null)) {
    finishAttempt(deps.db, runId, attempt, { outcome: 'interrupted', error: 'worker error' });
  }
}

/** Stops the trainer on shutdown, and on a cancel flagged in SQLite (the fallback for a lost pub/sub message). */
function watchForStop(deps: AttemptDeps, runId: string, controller: AbortController): () => void {
  const onShutdown = () => controller.abort('shutdown');
  if (deps.shutdown.aborted) onShutdown();
  else deps.shutdown.addEventListener('abort', onShutdown, { once: true });
  const poll = () => {
    if (getRun(deps.db, runId)?.cancelRequestedAt != null) controller.abort('cancelled');
  };
  poll();
  const timer = setInterval(poll, CANCEL_POLL_MS);
  return () => {
    clearInterval(timer);
    deps.shutdown.removeEventListener('abort', onShutdown);
  };
}

/** The newest checkpoint short of the run's total iterations (known from the trainer, or the request's iters). */
async function resumePoint(run: Run): Promise<(ResumePoint & { total: number }) | null> {
  const total = run.progressTotal ?? run.request.iters;
  if (run.attempt === 0 || !total) return null;
  const cp = await newestCheckpoint(path.join(run.runDir, 'adapters'));
  return cp && cp.iteration < total ? { ...cp, total } : null;
}

async function checkpointNames(adapters: string): Promise<string[]> {
  return (await listCheckpoints(adapters)).map((c) => path.basename(c.adapterFile));
}

async function record(deps: AttemptDeps, runId: string, attempt: number, outcome: Outcome, result: ExecuteResult): Promise<void> {
  const now = Date.now();
  const run = getRun(deps.db, runId)!;
  const adapters = path.join(run.runDir, 'adapters');
  const base = { exitCode: result.exitCode, signal: result.signal, checkpoints: await checkpointNames(adapters), peakMemoryGb: maxMetricValue(deps.db, runId, 'peak_memory_gb') };
  const ended = { finishedAt: now, durationMs: now - (run.startedAt ?? now) };
  // Out of memory: the record and, with on_oom "reduce", the smaller next attempt (reads the model: async, so first).
  const oom = outcome.status === 'failed' && outcome.outOfMemory !== undefined ? await decideOnOom(deps.db, deps.config, run, attempt, outcome.outOfMemory, await deps.resolveData(run.data)) : null;
  // The attempt's row and the run's status (with the retry decision) change together.
  withTransaction(deps.db, () => {
    finishAttempt(deps.db, runId, attempt, { outcome: outcome.status, exitCode: result.exitCode, signal: result.signal, error: outcome.status === 'failed' ? outcome.error : null });
    const settings = retrySettings(deps.config);
    switch (outcome.status) {
      case 'succeeded':
        transitionRun(deps.db, runId, 'running', 'succeeded', { ...base, ...ended, adapterFile: path.join(adapters, 'adapters.safetensors') }, 'trainer exited 0 and wrote adapters.safetensors');
        break;
      case 'cancelled':
        transitionRun(deps.db, runId, 'running', 'cancelled', { ...base, ...ended, stopReason: outcome.stopReason }, decideRetry('stopped', 1, settings, outcome.reason).reason);
        break;
      case 'interrupted': {
        const d = decideRetry('interrupted', 1, settings, outcome.reason);
        const delayMs = d.action === 'resume' ? d.delayMs : 0;
        transitionRun(deps.db, runId, 'running', 'interrupted', { ...base, stopReason: 'shutdown', notBefore: now + delayMs }, { reason: d.reason, delayMs });
        break;
      }
      case 'failed': {
        if (oom) {
          const patch = { ...base, error: oom.error, stopReason: outcome.reason, outOfMemory: oom.outOfMemory };
          // The policy decides whether (on_oom, reductions tried); decideOnOom made the smaller request, if one is left.
          const d = decideRetry('out_of_memory', 1, settings, 'out of memory', undefined, { onOom: run.request.on_oom, reductionsTried: run.outOfMemory?.reductions.length ?? 0 });
          if (d.action === 'retry' && oom.retry) transitionRun(deps.db, runId, 'running', 'interrupted', { ...patch, request: oom.retry.request, argv: oom.retry.argv }, oom.retry.reason);
          else transitionRun(deps.db, runId, 'running', 'failed', { ...patch, ...ended }, d.action === 'retry' ? 'out of memory; on_oom reduce: nothing left to reduce' : d.reason);
          break;
        }
        // Strikes: this run's failed attempts so far, this one included.
        const strike = listAttempts(deps.db, runId).filter((a) => a.outcome === 'failed').length;
        const d = decideRetry(outcome.retryable ? 'trainer_failure' : 'permanent', strike, settings, `attempt ${attempt} failed (${outcome.reason})`);
        if (d.action === 'retry') transitionRun(deps.db, runId, 'running', 'interrupted', { ...base, error: outcome.error, stopReason: outcome.reason, notBefore: now + d.delayMs }, { reason: d.reason, delayMs: d.delayMs });
        else transitionRun(deps.db, runId, 'running', 'failed', { ...base, ...ended, error: outcome.error, stopReason: outcome.reason }, d.reason);
        break;
      }
    }
  });
}
