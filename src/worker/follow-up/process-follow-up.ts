// The follow-up job handler: parse, load, return if final, wait for its chain, run the kind, record the outcome.
import fs from 'node:fs';

import { DelayedError, type Job, type Queue, UnrecoverableError } from 'bullmq';
import type { Logger } from 'pino';

import { recordPath } from '../../artifacts/record-artifacts.js';
import type { Db } from '../../db/client.js';
import { getJob, transitionJob } from '../../db/jobs-repository.js';
import { getRun } from '../../db/runs-repository.js';
import { ConflictError } from '../../domain/errors.js';
import { type FollowUpJob, isJobFinal } from '../../domain/follow-up-job.js';
import { type FollowUpRequest, parseFollowUpRequest } from '../../domain/follow-up-request.js';
import { jobLogOf, toolPidFileOf } from '../../domain/run-folder.js';
import { readModelFacts } from '../../inputs/model-facts.js';
import type { Config } from '../../shared/config.js';
import { jobFor, parseJobId } from '../../shared/job-kinds.js';
import { addJobs } from '../../shared/queue.js';
import { type WorkerIdentity, writeLease } from '../run-lease.js';
import { type FollowUpContext, JobCancelled, JobFailure, type KindOutcome, toolRunner } from './context.js';
import { runEvaluate } from './evaluate.js';
import { runExport } from './export.js';
import { runFuse } from './fuse.js';
import { reclaimJob } from './job-recovery.js';
import { runSamples } from './samples.js';

export interface FollowUpDeps {
  config: Config;
  db: Db;
  logger: Logger;
  resolveData: (data: string) => Promise<string>;
  /** Running work by id (runs and jobs); the cancel channel aborts an entry. */
  active: Map<string, AbortController>;
  shutdown: AbortSignal;
  trainerEnv?: Record<string, string>;
  /** This worker process, written into the job folder's lease while it runs a job. */
  self: WorkerIdentity;
  /** The runs queue: a job stopped by a shutdown is queued again as its next attempt. */
  queue: Queue;
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

function settle(
  deps: FollowUpDeps,
  id: string,
  to: 'succeeded' | 'failed' | 'cancelled' | 'queued',
  patch: Parameters<typeof transitionJob>[4] = {},
): void {
  try {
    transitionJob(deps.db, id, 'running', to, patch);
  } catch (e) {
    if (!(e instanceof ConflictError)) throw e;
  }
}

export function createFollowUpHandler(deps: FollowUpDeps) {
  return async function processFollowUp(
    payload: { jobId: string },
    job: Job,
    token?: string,
  ): Promise<{ status: string }> {
    const found = getJob(deps.db, payload.jobId);
    if (!found) throw new UnrecoverableError(`Job ${payload.jobId} does not exist`);
    const log = deps.logger.child({ jobId: found.id, runId: found.runId, kind: found.kind });
    if (isJobFinal(found.status)) return { status: found.status };
    let fj: FollowUpJob = found;
    if (found.status === 'running') {
      // The job came back while it says running: its worker died (a stalled BullMQ job), or this is the dead
      // worker's old delivery of a job that recovery queued again and another worker runs now.
      const n = parseJobId(job.id)?.n ?? found.attempt;
      const r = await reclaimJob(
        {
          db: deps.db,
          logger: deps.logger,
          self: deps.self,
          killGraceMs: deps.config.killGraceMs,
          active: deps.active,
        },
        found,
      );
      if (r.kind === 'owned') {
        if (n < found.attempt) {
          log.info(
            { delivery: n, attempt: found.attempt },
            'stale delivery: a newer attempt of this job runs; dropping it',
          );
          return { status: 'running' };
        }
        log.warn({ owner: r.owner }, 'the job is still run by a live worker; checking again later');
        return requeue(job, token, deps.config.stalledIntervalMs);
      }
      fj = getJob(deps.db, found.id)!;
      if (fj.status !== 'queued') return { status: fj.status };
    }
    if (fj.cancelRequestedAt) return { status: transitionJob(deps.db, fj.id, 'queued', 'cancelled').status };
    if (deps.shutdown.aborted) return requeue(job, token, CHAIN_WAIT_MS);
    const parent = fj.parentJobId ? getJob(deps.db, fj.parentJobId) : undefined;
    if (parent && !isJobFinal(parent.status)) return requeue(job, token, CHAIN_WAIT_MS);
    const run = getRun(deps.db, fj.runId);
    if (!run) throw new UnrecoverableError(`Run ${fj.runId} does not exist`);
    await fs.promises.mkdir(fj.jobDir, { recursive: true });
    // Before the job shows running: a worker that finds it running can ask whether we live. In `active` first, so
    // this process's own recovery pass never takes the job for one a dead process left.
    await writeLease(fj.jobDir, deps.self, token ?? null);
    const controller = new AbortController();
    deps.active.set(fj.id, controller);
    try {
      fj = transitionJob(deps.db, fj.id, 'queued', 'running', {
        worker: deps.config.workerName,
        error: null,
      });
    } catch (e) {
      deps.active.delete(fj.id);
      if (e instanceof ConflictError) return { status: getJob(deps.db, fj.id)?.status ?? 'cancelled' };
      throw e;
    }
    const onShutdown = () => controller.abort('shutdown');
    deps.shutdown.addEventListener('abort', onShutdown, { once: true });
    // A cancel sent while Redis was down reaches the worker through SQLite.
    const poll = setInterval(() => {
      if (getJob(deps.db, fj.id)?.cancelRequestedAt) controller.abort('cancelled');
    }, CANCEL_POLL_MS);
    try {
      const model = readModelFacts(run.model, deps.config.hfHubCache);
      if (!model.dir)
        throw new JobFailure(
          `the run's model ${run.model} is neither a local folder nor in the Hugging Face cache (${deps.config.hfHubCache}); follow-up jobs need it locally`,
        );
      const ctx: FollowUpContext = {
        job: fj,
        run,
        db: deps.db,
        config: deps.config,
        model: { ...model, dir: model.dir },
        resolveData: deps.resolveData,
        tool: toolRunner({
          logFile: jobLogOf(fj.jobDir),
          env: deps.trainerEnv ?? {},
          signal: controller.signal,
          killGraceMs: deps.config.killGraceMs,
          idleLimitMs: deps.config.runIdleLimitMs,
          pidFile: toolPidFileOf(fj.jobDir),
        }),
      };
      const outcome = await runKind(ctx, parseFollowUpRequest({ ...fj.options, kind: fj.kind }));
      for (const a of outcome.artifacts) await recordPath(deps.db, { ...a, runId: run.id, jobId: fj.id });
      settle(deps, fj.id, 'succeeded', { result: outcome.result });
      log.info('follow-up job succeeded');
      return { status: 'succeeded' };
    } catch (e) {
      if (e instanceof JobCancelled || controller.signal.aborted) {
        if (controller.signal.reason === 'shutdown') {
          settle(deps, fj.id, 'queued');
          // Its attempt moved on when it ran: the next attempt's job, the id the outbox and the reconciler expect.
          await addJobs(deps.queue, [
            jobFor(fj.kind, { jobId: fj.id }, fj.attempt + 1, { delayMs: CHAIN_WAIT_MS }),
          ]).catch((err: unknown) =>
            log.warn({ err }, 'could not queue the job again at shutdown; the outbox or the reconciler will'),
          );
          return { status: 'queued' };
        }
        settle(deps, fj.id, 'cancelled', { error: 'cancelled by request' });
        return { status: 'cancelled' };
      }
      const message =
        e instanceof JobFailure ? e.message : `the worker could not run the job: ${(e as Error).message}`;
      if (!(e instanceof JobFailure)) log.error({ err: e }, 'follow-up job error');
      settle(deps, fj.id, 'failed', { error: message, result: e instanceof JobFailure ? e.result : null });
      throw new UnrecoverableError(message);
    } finally {
      clearInterval(poll);
      deps.active.delete(fj.id);
      deps.shutdown.removeEventListener('abort', onShutdown);
    }
  };
}
