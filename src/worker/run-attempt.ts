// One attempt of a run, as the control plane started it: prepare its command and resume checkpoint
// (attempt-command.ts), execute the trainer with its output sink, upload each checkpoint it saves, stop it on cancel,
// early stop or shutdown, and report how the attempt ended. Reports go through the Reporter only.
import fs from 'node:fs';
import path from 'node:path';

import type { Logger } from 'pino';

import { ADAPTER_CONFIG_FILE, ADAPTER_FILE, checkpointFileName } from '../domain/checkpoint-names.js';
import { isVerifiedVersion } from '../domain/flag-set.js';
import { configFileOf, trainerPidFileOf, trainLogOf } from '../domain/run-folder.js';
import type { Config } from '../shared/config.js';
import type { RunState, StartAttemptAnswer, StopSignal } from '../shared/report-protocol.js';
import { markAttemptDir, settleAttemptDir } from './attempt-adapters.js';
import { prepareAttempt } from './attempt-command.js';
import { type ExecuteResult, executeTrainer } from './execute.js';
import { decideOutcome, type Outcome } from './outcome.js';
import type { AttemptReporter, Reporter } from './reporter.js';
import { listCheckpoints } from './resume-point.js';
import type { WorkerPreflight } from './run-environment.js';
import { startLeaseHeartbeat } from './run-lease.js';
import { RunOutputSink } from './run-output-sink.js';

export interface AttemptDeps {
  config: Config;
  reporter: Reporter;
  /** What this worker's preflight found: the trainer's version and flags, and the machine. */
  preflight: WorkerPreflight;
  /** Process groups of running trainers, so a forced exit can still stop them. */
  trainers?: Set<number>;
  /** Aborted when the worker shuts down and stops its training (requeue mode, or the wait deadline passed). */
  shutdown: AbortSignal;
  trainerEnv?: Record<string, string>;
}

/** Where this worker trains a run: its own folder (the control plane's own, for the local worker). */
export interface AttemptPlace {
  runDir: string;
  /** The run's data as a folder on this worker. */
  dataDir: string;
}

/** Cancels and early stops are seen within this even when the pub/sub signal was lost (Redis down at the API). */
const CONTROL_POLL_MS = 1000;

/** Runs one attempt the control plane started; the run as the control plane has it after the attempt's finish. */
export async function runAttempt(
  deps: AttemptDeps,
  started: StartAttemptAnswer,
  place: AttemptPlace,
  /** The run's entry in `active` (registered by the processor before the run showed running): stops the trainer. */
  controller: AbortController,
  log: Logger,
): Promise<RunState> {
  const { runId, attempt } = started;
  let stop: StopSignal | null = null;
  const onStop = (signal: StopSignal) => {
    if (stop) return;
    stop = signal;
    if (controller.signal.aborted) return;
    log.info({ stopReason: signal.stopReason, reason: signal.reason }, 'stopping the trainer');
    controller.abort(signal.stopReason === 'early_stopped' ? 'early_stopped' : 'cancelled');
  };
  const report = deps.reporter.attempt(runId, attempt, { onStop });
  let sink: RunOutputSink | undefined;
  let finished = false;
  try {
    const { argv, env, configYaml, adapters, attemptDir } = await prepareAttempt(deps, started, place);
    fs.mkdirSync(attemptDir ?? adapters, { recursive: true });
    const offset = started.resume?.iteration ?? 0;
    if (attemptDir) markAttemptDir(attemptDir, offset);
    // The API only records the run; its folder and config.yaml are made where the trainer reads them.
    const configPath = configFileOf(place.runDir);
    if (!fs.existsSync(configPath)) fs.writeFileSync(configPath, configYaml);
    // Problems on the resume path (pid file, lease) are logged and recorded on the run, never swallowed.
    const problem = (message: string) => {
      log.warn(message);
      report.event(message);
    };
    const trainerDir = attemptDir ?? adapters;
    sink = new RunOutputSink({
      report,
      log: started.log,
      logFile: trainLogOf(place.runDir),
      logCapBytes: deps.config.logCapBytes,
      iterationOffset: offset,
      // Known from the request at submit (iters, or epochs over the train rows) until upstream prints its own count.
      total: started.resume?.total ?? started.progressTotal,
      onProblem: problem,
      onUnrecognisedReports: isVerifiedVersion(deps.preflight.version)
        ? undefined
        : () =>
            report.event(
              `metrics not recognised for this version (mlx-lm-lora ${deps.preflight.version ?? 'unknown'}): the trainer prints reports the service cannot read, so this run's charts stay empty`,
            ),
      // Each checkpoint goes to the control plane's store as soon as it is saved, in the background.
      onCheckpoint: (c) =>
        report.upload(path.join(trainerDir, checkpointFileName(c.iteration - offset)), {
          name: checkpointFileName(c.iteration),
          kind: 'checkpoint',
          iteration: c.iteration,
        }),
    });
    sink.line('system', `[mlxq] attempt ${attempt} on ${deps.reporter.workerName}: ${argv.join(' ')}`);
    const outcome = await train(
      deps,
      { runId, argv, env, runDir: place.runDir, controller, sink, report, problem, onStop },
      log,
    );
    const summary = outcome.summary;
    const wroteAdapter = fs.existsSync(path.join(trainerDir, ADAPTER_FILE));
    if (attemptDir) await settleAttemptDir(adapters, attemptDir, offset);
    const decided = decideOutcome(outcome.result, summary, wroteAdapter, (stop as StopSignal | null)?.reason);
    if (wroteAdapter) uploadAdapter(report, adapters);
    const state = await report.finish(finishBody(decided, outcome.result, await checkpointNames(adapters)));
    finished = true;
    log.info(
      {
        outcome: decided.status,
        exitCode: outcome.result.exitCode,
        signal: outcome.result.signal,
        stopReason: outcome.result.stopReason,
        status: state.status,
      },
      'trainer ended',
    );
    return state;
  } finally {
    if (!finished) {
      await sink?.close().catch((err: unknown) => log.error({ err }, 'closing the output sink failed'));
      await report.close();
    }
  }
}

interface Training {
  runId: string;
  argv: string[];
  env: Record<string, string>;
  runDir: string;
  controller: AbortController;
  sink: RunOutputSink;
  report: AttemptReporter;
  problem: (message: string) => void;
  onStop: (signal: StopSignal) => void;
}

/** Executes the trainer under the attempt's stop signals; the sink is closed when it ends. */
async function train(
  deps: AttemptDeps,
  t: Training,
  log: Logger,
): Promise<{ result: ExecuteResult; summary: Awaited<ReturnType<RunOutputSink['close']>> }> {
  const stopWatching = watchForStop(deps, t.report, t.controller, t.onStop);
  const stopHeartbeat = startLeaseHeartbeat(t.runDir, undefined, t.problem);
  log.info('trainer starting');
  let trainerPid: number | undefined;
  try {
    const result = await executeTrainer({
      argv: t.argv,
      env: { ...t.env, ...deps.trainerEnv },
      cwd: t.runDir,
      pidFile: trainerPidFileOf(t.runDir),
      onLine: (stream, line) => t.sink.line(stream, line),
      onProblem: t.problem,
      onSpawn: (pid) => {
        trainerPid = pid;
        deps.trainers?.add(pid);
        t.sink.progress({ trainerPid: pid });
      },
      signal: t.controller.signal,
      timeLimitMs: deps.config.runTimeLimitMs,
      idleLimitMs: deps.config.runIdleLimitMs,
      killGraceMs: deps.config.killGraceMs,
      caffeinate: deps.config.caffeinate,
    });
    const summary = await t.sink.close();
    return { result, summary };
  } finally {
    stopWatching();
    stopHeartbeat();
    if (trainerPid !== undefined) deps.trainers?.delete(trainerPid);
  }
}

/** The finished adapter (and its config) go to the control plane's run folder, so it downloads from the dashboard. */
function uploadAdapter(report: AttemptReporter, adapters: string): void {
  report.upload(path.join(adapters, ADAPTER_FILE), {
    name: ADAPTER_FILE,
    kind: 'adapter',
    iteration: null,
  });
  const config = path.join(adapters, ADAPTER_CONFIG_FILE);
  if (fs.existsSync(config))
    report.upload(config, { name: ADAPTER_CONFIG_FILE, kind: 'file', iteration: null });
}

/** Stops the trainer on shutdown, and on what the control plane answers to a poll (a lost pub/sub message). */
function watchForStop(
  deps: AttemptDeps,
  report: AttemptReporter,
  controller: AbortController,
  onStop: (signal: StopSignal) => void,
): () => void {
  const onShutdown = () => controller.abort('shutdown');
  if (deps.shutdown.aborted) onShutdown();
  else deps.shutdown.addEventListener('abort', onShutdown, { once: true });
  let polling = false;
  const poll = () => {
    if (polling || controller.signal.aborted) return;
    polling = true;
    report
      .control()
      .then((answer) => {
        if (answer?.stop) onStop(answer.stop);
      })
      .catch(() => undefined) // unreachable: the next poll asks again
      .finally(() => (polling = false));
  };
  poll();
  const timer = setInterval(poll, CONTROL_POLL_MS);
  return () => {
    clearInterval(timer);
    deps.shutdown.removeEventListener('abort', onShutdown);
  };
}

async function checkpointNames(adapters: string): Promise<string[]> {
  return (await listCheckpoints(adapters)).map((c) => path.basename(c.adapterFile));
}

function finishBody(outcome: Outcome, result: ExecuteResult, checkpoints: string[]) {
  const base = { exitCode: result.exitCode, signal: result.signal, checkpoints };
  switch (outcome.status) {
    case 'succeeded':
      return {
        ...base,
        outcome: 'succeeded' as const,
        reason: `trainer exited 0 and wrote ${ADAPTER_FILE}`,
      };
    case 'cancelled':
      return {
        ...base,
        outcome: 'cancelled' as const,
        reason: outcome.reason,
        stopReason: outcome.stopReason,
      };
    case 'interrupted':
      return { ...base, outcome: 'interrupted' as const, reason: outcome.reason, stopReason: 'shutdown' };
    case 'failed':
      return {
        ...base,
        outcome: 'failed' as const,
        reason: outcome.reason,
        error: outcome.error,
        retryable: outcome.retryable,
        stopReason: outcome.reason,
        outOfMemory: outcome.outOfMemory ?? null,
      };
  }
}
