// The follow-up job handler, the same on every worker: the job starts at the control plane (compare-and-set, with
// its inputs by hash), its inputs are fetched, the kind runs, the files it made are uploaded and recorded, and the
// outcome is reported, all through the JobReporter (in-process on the control plane's worker, HTTP elsewhere).
import fs from 'node:fs';

import { DelayedError, type Job, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';

import type { JobStartedAnswer } from '../../contract/job-protocol.js';
import { type FollowUpRequest, parseFollowUpRequest } from '../../domain/follow-up-request.js';
import type { Run } from '../../domain/run.js';
import { toolPidFileOf } from '../../domain/run-folder.js';
import { readModelFacts } from '../../inputs/model-facts.js';
import type { Config } from '../../shared/config.js';
import { jobFor, parseJobId } from '../../shared/job-kinds.js';
import { addJobs } from '../../shared/queue.js';
import type { RunQueues } from '../../shared/run-queues.js';
import type { JobAttemptReporter, JobReporter } from '../job-reporter.js';
import { SupersededError } from '../reporter.js';
import { type WorkerIdentity, writeLease } from '../run-lease.js';
import { type FollowUpContext, JobCancelled, JobFailure, type KindOutcome, toolRunner } from './context.js';
import { runEvaluate } from './evaluate.js';
import { runExport } from './export.js';
import { runFuse } from './fuse.js';
import { fetchJobInputs, type JobPlace, placeOf, relInRun, resultAtControlPlane } from './job-inputs.js';
import { runSamples } from './samples.js';

export interface FollowUpDeps {
  config: Config;
  logger: Logger;
  reporter: JobReporter;
  resolveData: (data: string) => Promise<string>;
  /** Running work by id (runs and jobs); the cancel channel aborts an entry. */
  active: Map<string, AbortController>;
  shutdown: AbortSignal;
  trainerEnv?: Record<string, string>;
  /** This worker process, written into the job folder's lease while it runs a job. */
  self: WorkerIdentity;
  /** The runs' queues: a job stopped by a shutdown is queued again as its next attempt, in the queue it came from. */
  queues: RunQueues;
}

/** A job waiting for the job before it in its chain (an export for its fuse) looks again after this. */
const CHAIN_WAIT_MS = 1000;
const CANCEL_POLL_MS = 1000;

async function runKind(ctx: FollowUpContext, req: FollowUpRequest): Promise<KindOutcome> {
  switch (req.kind) {
    case 'evaluate':
      return runEvaluate(ctx, req);
    case 'samples':
      return runSamples(ctx, req);
    case 'fuse':
      return runFuse(ctx, req);
    case 'export':
      return runExport(ctx, req);
  }
}

async function requeue(job: Job, token: string | undefined, delayMs: number): Promise<never> {
  await job.moveToDelayed(Date.now() + delayMs, token);
  throw new DelayedError();
}

/** The kind's context on this worker: its folders here, the model found here, a tool runner logging to the job. */
function contextOf(
  deps: FollowUpDeps,
  s: JobStartedAnswer,
  place: JobPlace,
  fusedDir: string | null,
  report: JobAttemptReporter,
  signal: AbortSignal,
): FollowUpContext {
  const model = readModelFacts(s.run.model, deps.config.hfHubCache);
  if (!model.dir)
    throw new JobFailure(
      `the run's model ${s.run.model} is neither a local folder nor in the Hugging Face cache (${deps.config.hfHubCache}) on ${deps.config.workerName}; follow-up jobs need it locally`,
    );
  const { parent } = s;
  return {
    job: { ...s.job, jobDir: place.jobDir },
    // The run's request as the control plane stored it (validated at submit).
    run: {
      ...s.run,
      method: s.run.method as Run['method'],
      request: s.run.request as Run['request'],
      runDir: place.runDir,
      adapterPath: place.adapterPath,
    },
    parent: parent && {
      id: parent.id,
      status: parent.status,
      error: parent.error,
      result: parent.result,
      fusedDir,
    },
    config: deps.config,
    model: { ...model, dir: model.dir },
    resolveData: deps.resolveData,
    tool: toolRunner({
      log: (text) => report.log(text),
      env: deps.trainerEnv ?? {},
      signal,
      killGraceMs: deps.config.killGraceMs,
      idleLimitMs: deps.config.runIdleLimitMs,
      pidFile: toolPidFileOf(place.jobDir),
    }),
  };
}

/** Uploads what the kind made and records it; the result with the control plane's paths. */
async function record(report: JobAttemptReporter, place: JobPlace, outcome: KindOutcome) {
  const placed = new Map<string, string>();
  for (const a of outcome.artifacts) {
    const answer = await report.upload(a.path, {
      kind: a.kind,
      verified: a.verified,
      rel: relInRun(place.runDir, a.path),
    });
    placed.set(a.path, answer.path);
  }
  return resultAtControlPlane(outcome.result, placed);
}

export function createFollowUpHandler(deps: FollowUpDeps) {
  return async function processFollowUp(
    payload: { jobId: string },
    job: Job,
    token?: string,
  ): Promise<{ status: string }> {
    const log = deps.logger.child({ jobId: payload.jobId, kind: job.name });
    if (deps.shutdown.aborted) return requeue(job, token, CHAIN_WAIT_MS);
    const answer = await deps.reporter.start(payload.jobId, { jobAttempt: parseJobId(job.id)?.n ?? 1 });
    switch (answer.outcome) {
      case 'final':
        return { status: answer.status };
      case 'stale':
        log.info({ reason: answer.reason }, 'stale delivery of a follow-up job; dropping it');
        return { status: 'stale' };
      case 'busy':
        if (!answer.running) return requeue(job, token, CHAIN_WAIT_MS);
        // Its worker may be gone: the control plane (remote workers) or this host's recovery (leases) moves it on.
        log.warn({ reason: answer.reason }, 'the job is held by another worker; checking again later');
        return requeue(job, token, deps.config.stalledIntervalMs);
      case 'started':
        return runStarted(deps, answer, job, token, log);
    }
  };
}

async function runStarted(
  deps: FollowUpDeps,
  s: JobStartedAnswer,
  job: Job,
  token: string | undefined,
  log: Logger,
): Promise<{ status: string }> {
  const id = s.job.id;
  const place = placeOf(deps.config.dataDir, s);
  await fs.promises.mkdir(place.jobDir, { recursive: true });
  // A worker on this host that finds the job running can ask whether this process lives.
  await writeLease(place.jobDir, deps.self, token ?? null);
  const controller = new AbortController();
  deps.active.set(id, controller);
  const report = deps.reporter.attempt(id, s.job.attempt, s.logBytes, {
    onStop: (reason) => {
      log.warn({ reason }, 'the control plane moved the job on; stopping its tool');
      controller.abort('superseded');
    },
  });
  const onShutdown = () => controller.abort('shutdown');
  // A shutdown that began while the job was starting (after the control plane marked it running) stops it too; a
  // listener added to an aborted signal never fires, and the job would then run to its end inside the shutdown.
  if (deps.shutdown.aborted) onShutdown();
  else deps.shutdown.addEventListener('abort', onShutdown, { once: true });
  const poll = setInterval(() => {
    void report.control().then((state) => state?.cancel && controller.abort('cancelled'));
  }, CANCEL_POLL_MS);
  try {
    const fusedDir = await fetchJobInputs(deps.reporter, s, place);
    const ctx = contextOf(deps, s, place, fusedDir, report, controller.signal);
    const outcome = await runKind(ctx, parseFollowUpRequest({ ...s.job.options, kind: s.job.kind }));
    const result = await record(report, place, outcome);
    await report.finish({ outcome: 'succeeded', result });
    log.info('follow-up job succeeded');
    return { status: 'succeeded' };
  } catch (e) {
    return await settleFailure(deps, s, job, report, controller.signal, e, log);
  } finally {
    clearInterval(poll);
    deps.active.delete(id);
    deps.shutdown.removeEventListener('abort', onShutdown);
    await report.close();
  }
}

/** Reports how a job that did not succeed ended: put back (shutdown), cancelled, or failed (not retried). */
async function settleFailure(
  deps: FollowUpDeps,
  s: JobStartedAnswer,
  job: Job,
  report: JobAttemptReporter,
  signal: AbortSignal,
  e: unknown,
  log: Logger,
): Promise<{ status: string }> {
  if (e instanceof SupersededError || signal.reason === 'superseded') {
    log.warn({ err: (e as Error).message }, 'the job attempt is over at the control plane; dropping it');
    return { status: 'superseded' };
  }
  if (e instanceof JobCancelled || signal.aborted) {
    if (signal.reason === 'shutdown') {
      await report.finish({ outcome: 'queued' });
      // Its attempt moved on when it ran: the next attempt's job, the id the reconciler expects, in the queue of its
      // run's placement (the one it came from), so it stays with the workers that may run it.
      await addJobs(deps.queues.get(job.queueName), [
        jobFor(s.job.kind, { jobId: s.job.id }, s.job.attempt + 1, { delayMs: CHAIN_WAIT_MS }),
      ]).catch((err: unknown) =>
        log.warn({ err }, 'could not queue the job again at shutdown; the reconciler will'),
      );
      return { status: 'queued' };
    }
    await report.finish({ outcome: 'cancelled', error: 'cancelled by request' });
    return { status: 'cancelled' };
  }
  const message =
    e instanceof JobFailure ? e.message : `the worker could not run the job: ${(e as Error).message}`;
  if (!(e instanceof JobFailure)) log.error({ err: e }, 'follow-up job error');
  await report.finish({
    outcome: 'failed',
    error: message,
    result: e instanceof JobFailure ? e.result : null,
  });
  throw new UnrecoverableError(message);
}
