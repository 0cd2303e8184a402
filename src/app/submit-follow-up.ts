// Creates follow-up jobs of a succeeded run: checks the options against the run and its model, makes an export's
// fuse first when no verified one exists, writes the rows, then queues them (or takes the rows back).
import path from 'node:path';

import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

import type { Db } from '../db/client.js';
import { deleteJobs, insertJobs, listJobsOfRun, type NewJob } from '../db/jobs-repository.js';
import { requireRun } from '../db/runs-repository.js';
import { ConflictError, RequestValidationError, ServiceUnavailableError } from '../domain/errors.js';
import type { FollowUpJob, JobOrigin } from '../domain/follow-up-job.js';
import { type FollowUpRequest, FUSE_OPTIONS, parseFollowUpRequest } from '../domain/follow-up-request.js';
import { checkFollowUp, type FollowUpFacts } from '../domain/follow-up-rules.js';
import { newId } from '../domain/ids.js';
import type { Run } from '../domain/run.js';
import { jobDirOf } from '../domain/run-folder.js';
import type { RunRequest } from '../domain/run-request.js';
import type { InputCheckDeps } from '../inputs/check-run-inputs.js';
import { readModelFacts } from '../inputs/model-facts.js';
import type { Config } from '../shared/config.js';
import { enqueueFollowUps } from '../shared/follow-up-queue.js';
import { readMlxLmVersion } from '../shared/mlx-lm-version.js';
import { runQueuesOf } from '../shared/run-queues.js';

export function followUpFacts(config: Config, run: Pick<Run, 'method' | 'model' | 'request'>): FollowUpFacts {
  const model = readModelFacts(run.model, config.hfHubCache);
  const trainType = (run.request.train_type as FollowUpFacts['trainType'] | undefined) ?? 'lora';
  return {
    method: run.method,
    trainType,
    modelType: model.modelType,
    quantization: model.quantization,
    mlxLmVersion: readMlxLmVersion(config.dataDir),
  };
}

/** Checks a request's own paths (evaluate's `data`) against the allowed roots. */
export async function checkFollowUpPaths(
  inputs: InputCheckDeps,
  req: FollowUpRequest,
  field = '',
): Promise<void> {
  if (req.kind !== 'evaluate' || req.data === undefined) return;
  const at = [field, 'data'].filter(Boolean).join('.');
  const dir = await inputs.resolveData(req.data).catch((e: unknown) => {
    throw new RequestValidationError([{ path: at, message: (e as Error).message }]);
  });
  await inputs.assertAllowedPath?.(at, path.resolve(dir));
}

function newJobRow(
  run: Run,
  req: FollowUpRequest,
  origin: JobOrigin,
  parentJobId: string | null = null,
): NewJob {
  const id = newId('job');
  const { kind, ...options } = req;
  return { id, runId: run.id, kind, options, origin, parentJobId, jobDir: jobDirOf(run.runDir, id) };
}

/**
 * The rows for one request: an export gets a fuse before it in its chain unless the run already has a verified
 * fuse (succeeded) or one on its way (queued or running). Pure apart from reading the run's jobs.
 */
export function jobRowsFor(db: Db, run: Run, req: FollowUpRequest, origin: JobOrigin): NewJob[] {
  if (req.kind !== 'export') return [newJobRow(run, req, origin)];
  const fuses = listJobsOfRun(db, run.id).filter(
    (j) =>
      j.kind === 'fuse' &&
      (j.status === 'queued' ||
        j.status === 'running' ||
        (j.status === 'succeeded' && j.result?.verified === true)),
  );
  const existing = fuses.find((j) => j.status === 'succeeded') ?? fuses[0];
  if (existing) return [newJobRow(run, req, origin, existing.id)];
  const fuse = newJobRow(run, FUSE_OPTIONS.parse({ kind: 'fuse' }), origin);
  return [fuse, newJobRow(run, req, origin, fuse.id)];
}

export function assertSucceeded(run: Run): void {
  if (run.status !== 'succeeded')
    throw new ConflictError(`Run ${run.id} is ${run.status}; follow-up jobs need a succeeded run`);
}

export function createJobs(db: Db, rows: readonly NewJob[]): FollowUpJob[] {
  return insertJobs(db, rows);
}

/** `run` may be a run or, at submit time, just its request (for `after` and `best_after`). */
export function checkRequestForRun(
  config: Config,
  run: Run | RunRequest,
  req: FollowUpRequest,
  field = '',
): void {
  const r =
    'request' in run && typeof run.request === 'object'
      ? (run as Run)
      : { method: (run as RunRequest).method, model: (run as RunRequest).model, request: run as RunRequest };
  checkFollowUp(req, followUpFacts(config, r), field);
}

export interface SubmitFollowUpDeps {
  config: Config;
  db: Db;
  queue: Queue;
  redis: Redis;
  inputs: InputCheckDeps;
}

/**
 * POST /v1/runs/:id/jobs: the jobs created for one request, the requested one last (an export's fuse before it).
 * If they cannot be queued (Redis down), their rows are deleted and nothing was created.
 */
export async function submitFollowUp(
  deps: SubmitFollowUpDeps,
  runId: string,
  body: unknown,
): Promise<FollowUpJob[]> {
  const req = parseFollowUpRequest(body);
  const run = requireRun(deps.db, runId);
  assertSucceeded(run);
  checkRequestForRun(deps.config, run, req);
  await checkFollowUpPaths(deps.inputs, req);
  const jobs = createJobs(deps.db, jobRowsFor(deps.db, run, req, 'request'));
  try {
    // In the run's queue: only a worker that could train the run takes its follow-ups.
    await enqueueFollowUps(
      runQueuesOf(deps.queue, deps.redis, deps.config.queuePrefix),
      jobs.map((job) => ({ job, run })),
      deps.config.memoryMargin,
    );
  } catch (e) {
    deleteJobs(
      deps.db,
      jobs.map((j) => j.id),
    );
    throw new ServiceUnavailableError(
      'The queue (Redis) is unavailable; nothing was created. Try again shortly.',
      {
        cause: e,
      },
    );
  }
  return jobs;
}
