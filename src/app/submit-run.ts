// Turns a request body into a queued run: validate, check inputs, build the command, insert, enqueue.

import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

import type { DatasetReport } from '../datasets/validate-dataset.js';
import type { Db } from '../db/client.js';
import {
  countRunsByStatus,
  deleteRun,
  findRunByIdempotencyKey,
  getRun,
  insertRun,
} from '../db/runs-repository.js';
import { buildCommand, type BuiltCommand } from '../domain/build-command.js';
import {
  ConflictError,
  type FieldIssue,
  LimitExceededError,
  ServiceUnavailableError,
} from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { expectedIterations } from '../domain/iterations.js';
import { newRunRow } from '../domain/new-run.js';
import type { Run } from '../domain/run.js';
import { runDirOf } from '../domain/run-folder.js';
import { parseRunRequest, type RunRequest } from '../domain/run-request.js';
import type { WorkerEntry } from '../domain/worker-entry.js';
import { isUsable } from '../domain/worker-entry.js';
import { checkRunInputs, type InputCheckDeps } from '../inputs/check-run-inputs.js';
import type { MemoryAssessment } from '../memory/assess-run-memory.js';
import type { Config } from '../shared/config.js';
import { trainJob } from '../shared/job-kinds.js';
import { runQueuesOf } from '../shared/run-queues.js';
import { assertSomeWorkerCanTake, assessPlacement, readFleet, type RunAdmission } from './admit-run.js';
import { checkFollowUpPaths, checkRequestForRun } from './submit-follow-up.js';
import { judgeFlagSets } from './trainer-flags.js';

export interface SubmitDeps {
  config: Config;
  db: Db;
  queue: Queue;
  inputs: InputCheckDeps;
  /** The worker registry's connection (admission judges the run against the registered workers; jobs go to their run's queue). */
  redis: Redis;
}

export interface PreparedRun {
  id: string;
  request: RunRequest;
  warnings: FieldIssue[];
  runDir: string;
  dataDir: string;
  dataset: DatasetReport;
  command: BuiltCommand;
  memory: MemoryAssessment;
  admission: RunAdmission;
  /** Iterations expected from the request, shown as the run's progress total before the trainer prints any. */
  progressTotal: number | null;
  /** The flag set the command was built for, and the worker that published it (null: the verified set). */
  flagSet: { version: string | null; source: 'build_parser' | 'help' | 'verified'; worker: string | null };
}

/**
 * Validates a body and everything it points at; builds the command; judges it against the registered workers
 * (`fleet`, read here when not given). No side effects.
 */
export async function prepareRun(
  body: unknown,
  deps: Pick<SubmitDeps, 'config' | 'inputs'> & { redis?: Redis; db?: Db },
  fleet?: WorkerEntry[] | null,
): Promise<PreparedRun> {
  const { request, warnings } = parseRunRequest(body);
  const { dataDir, report } = await checkRunInputs(request, deps.inputs);
  for (const [i, req] of (request.after ?? []).entries()) {
    checkRequestForRun(deps.config, request, req, `after.${i}`);
    await checkFollowUpPaths(deps.inputs, req, `after.${i}`);
  }
  const id = newId('run');
  const runDir = runDirOf(deps.config.dataDir, id);
  const chosenFleet = fleet === undefined ? await readFleet(deps) : fleet;
  const chosen = judgeFlagSets(request, (chosenFleet ?? []).filter(isUsable));
  warnings.push(...chosen.warnings);
  const command = buildCommand(request, {
    python: deps.config.mlxPython,
    runDir,
    dataDir,
    flagSet: chosen.flagSet,
  });
  const { memory, admission } = await assessPlacement(request, report, deps, chosenFleet);
  if (memory.memory.fit === 'tight') warnings.push({ path: 'memory', message: tightMessage(memory) });
  const progressTotal = expectedIterations(request, report.splits.train.rows);
  return {
    id,
    request,
    warnings,
    runDir,
    dataDir,
    dataset: report,
    command,
    memory,
    admission,
    progressTotal,
    flagSet: { ...command.flagSet, worker: chosen.worker },
  };
}

function tightMessage({ memory: m }: MemoryAssessment): string {
  return `the estimate (${m.estimate_gb} GB) fits ${m.largest_worker?.worker} (${m.largest_worker?.usable_gb} GB usable) with margin ${m.margin}, but not at its upper error (+35%): it may run out of memory`;
}

/** Admission: a run no registered worker could ever train is refused (422) with each worker's reasons. */
export function assertFitsSomeWorker(p: PreparedRun, prefix = ''): void {
  assertSomeWorkerCanTake(p, prefix);
}

export { newRunRow };

/**
 * The queued-runs count, refreshed at most once a second per database and raised by what this process adds:
 * counting is linear in the queue, and the cap only needs to be exact when it refuses, so it recounts then.
 */
const queuedEstimates = new WeakMap<Db, { count: number; at: number }>();
const QUEUED_COUNT_TTL_MS = 1000;

function countQueued(db: Db): number {
  return countRunsByStatus(db, ['queued', 'interrupted']);
}

export async function assertQueueHasRoom(
  deps: Pick<SubmitDeps, 'config' | 'db'>,
  adding: number,
): Promise<void> {
  const now = Date.now();
  let estimate = queuedEstimates.get(deps.db);
  if (!estimate || now - estimate.at > QUEUED_COUNT_TTL_MS) {
    estimate = { count: countQueued(deps.db), at: now };
    queuedEstimates.set(deps.db, estimate);
  }
  if (estimate.count + adding > deps.config.maxQueuedRuns) {
    estimate.count = countQueued(deps.db);
    estimate.at = now;
    if (estimate.count + adding > deps.config.maxQueuedRuns) {
      throw new LimitExceededError(
        `The queue holds ${estimate.count} runs; the cap is ${deps.config.maxQueuedRuns} (MAX_QUEUED_RUNS)`,
      );
    }
  }
  estimate.count += adding;
}

/** Queues attempt 1 of each prepared run, each in its placement's queue, in order. */
export async function enqueueFirstAttempts(
  deps: Pick<SubmitDeps, 'config' | 'queue' | 'redis'>,
  prepared: readonly PreparedRun[],
): Promise<void> {
  const queues = runQueuesOf(deps.queue, deps.redis, deps.config.queuePrefix);
  await queues.addRunJobs(
    prepared.map((p) => ({
      run: { request: p.request, memory: p.memory.memory },
      job: trainJob(p.id, 1, { priority: p.request.priority }),
    })),
    deps.config.memoryMargin,
  );
}

export function redisDown(cause: unknown): ServiceUnavailableError {
  return new ServiceUnavailableError(
    'Redis is unreachable: the run was not queued. Try again when Redis is back.',
    { cause },
  );
}

/** Submits one run. With an idempotency key seen before, returns that run instead of a new one. */
export async function submitRun(
  body: unknown,
  deps: SubmitDeps,
  opts: { idempotencyKey?: string } = {},
): Promise<{ run: Run; created: boolean; warnings: FieldIssue[] }> {
  if (opts.idempotencyKey) {
    const existing = findRunByIdempotencyKey(deps.db, opts.idempotencyKey);
    if (existing) return { run: existing, created: false, warnings: existing.warnings };
  }
  await assertQueueHasRoom(deps, 1);
  const prepared = await prepareRun(body, deps);
  assertFitsSomeWorker(prepared);
  try {
    insertRun(deps.db, newRunRow(prepared, { idempotencyKey: opts.idempotencyKey }));
  } catch (e) {
    // Two requests with the same key at once both passed the lookup above; the unique index let one insert.
    const winner =
      e instanceof ConflictError && opts.idempotencyKey
        ? findRunByIdempotencyKey(deps.db, opts.idempotencyKey)
        : undefined;
    if (!winner) throw e;
    return { run: winner, created: false, warnings: winner.warnings };
  }
  try {
    await enqueueFirstAttempts(deps, [prepared]);
  } catch (e) {
    // No run may stay queued without a job behind it.
    deleteRun(deps.db, prepared.id);
    throw redisDown(e);
  }
  return { run: getRun(deps.db, prepared.id)!, created: true, warnings: prepared.warnings };
}
