// The catalogue of job kinds the queue carries: each kind's payload schema, its subject and its job-id scheme.
//
// Adding a kind (evaluate, fuse, ...) means: an entry here, a handler in src/worker/job-handlers.ts (the compiler
// demands one for every kind), and, when SQLite must guarantee its delivery, a source in the queue reconciler.
//
// Job ids: every attempt of a subject has its own BullMQ job id, `<kind>:<subject>:<n>` (BullMQ accepts a custom
// id with a colon only when it has exactly three parts). A completed or failed job that BullMQ keeps for days
// therefore never blocks the job of the next attempt, and adding the job of attempt n twice is harmless.
import type { JobsOptions } from 'bullmq';
import { z } from 'zod';

import type { JobKindName } from '../domain/follow-up-job.js';

export interface JobKindSpec<P extends z.ZodType<{ [key: string]: unknown }>> {
  /** Parsed again by the worker before its handler runs. */
  payload: P;
  /** The record the job works on (a run id for train): the middle part of the job id. */
  subject: (payload: z.infer<P>) => string;
  /** Lower runs sooner, as in BullMQ; 1..2_097_152. */
  priority: (servicePriority: number) => number;
}

function defineJobKind<P extends z.ZodType<{ [key: string]: unknown }>>(
  spec: JobKindSpec<P>,
): JobKindSpec<P> {
  return spec;
}

/** Job ids end in their subject's id, which must not hold a colon. */
const subjectId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^:]+$/, 'must not contain ":"');

/**
 * Follow-ups of a finished run go ahead of runs queued later: BullMQ runs lower priorities first and a run's is
 * 101 - its priority (1..201), so 1 puts a follow-up ahead of every run but one of priority 100 queued before it.
 */
export const FOLLOW_UP_PRIORITY = 1;

/** A follow-up job (src/domain/follow-up-job.ts) of one kind: job `<kind>:<follow-up job id>:<n>`. */
const followUp = () =>
  defineJobKind({
    payload: z.object({ jobId: subjectId }),
    subject: (p) => p.jobId,
    priority: () => FOLLOW_UP_PRIORITY,
  });

export const JOB_KINDS = {
  /** Attempt n of a training run: job `train:<runId>:<n>` starts the run's attempt n. */
  train: defineJobKind({
    payload: z.object({ runId: subjectId }),
    subject: (p) => p.runId,
    // Higher service priority (-100..100) runs sooner; BullMQ runs lower numbers first.
    priority: (servicePriority) => 101 - servicePriority,
  }),
  evaluate: followUp(),
  samples: followUp(),
  fuse: followUp(),
  export: followUp(),
} as const satisfies Record<'train' | JobKindName, unknown>;

export type JobKind = keyof typeof JOB_KINDS;
export type JobPayload<K extends JobKind> = z.infer<(typeof JOB_KINDS)[K]['payload']>;
export type TrainPayload = JobPayload<'train'>;

export function isJobKind(name: string): name is JobKind {
  return Object.hasOwn(JOB_KINDS, name);
}

/** The BullMQ job id of attempt `n` (1-based) of a subject. */
export function jobIdOf(kind: JobKind, subject: string, n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`job attempt must be a positive integer, got ${n}`);
  return `${kind}:${subject}:${n}`;
}

export interface ParsedJobId {
  kind: JobKind;
  subject: string;
  n: number;
}

/** The parts of a job id made by jobIdOf; null for any other id (e.g. a job queued by an older version). */
export function parseJobId(id: string | undefined): ParsedJobId | null {
  const m = /^([a-z_]+):([^:]+):([1-9]\d*)$/.exec(id ?? '');
  if (!m || !isJobKind(m[1]!)) return null;
  return { kind: m[1], subject: m[2]!, n: Number(m[3]) };
}

/** Completed jobs stay a week and failed ones a month (bull-board shows them); SQLite keeps the history. */
const KEEP = {
  removeOnComplete: { age: 7 * 24 * 3600, count: 10_000 },
  removeOnFail: { age: 30 * 24 * 3600, count: 10_000 },
} as const;

export interface QueuedJob<K extends JobKind = JobKind> {
  name: K;
  data: JobPayload<K>;
  opts: JobsOptions & { jobId: string };
}

/**
 * The job of attempt `n` of a subject, ready for queue.add / addBulk. `delayMs` holds it back (a retry's backoff).
 * Retries are decided by the processor (src/domain/retry-policy.ts), never by BullMQ: attempts is 1.
 */
export function jobFor<K extends JobKind>(
  kind: K,
  payload: JobPayload<K>,
  n: number,
  opts: { priority?: number; delayMs?: number } = {},
): QueuedJob<K> {
  const spec = JOB_KINDS[kind] as unknown as JobKindSpec<z.ZodType<JobPayload<K>>>;
  return {
    name: kind,
    data: payload,
    opts: {
      jobId: jobIdOf(kind, spec.subject(payload), n),
      priority: spec.priority(opts.priority ?? 0),
      ...(opts.delayMs && opts.delayMs > 0 ? { delay: Math.round(opts.delayMs) } : {}),
      attempts: 1,
      ...KEEP,
    },
  };
}

/** The train job that starts attempt `n` of a run. */
export function trainJob(
  runId: string,
  n: number,
  opts: { priority?: number; delayMs?: number } = {},
): QueuedJob<'train'> {
  return jobFor('train', { runId }, n, opts);
}

/**
 * The id of the job that carries a run: for a queued or interrupted run its next attempt's; for a running or
 * final one the job of its latest attempt (the first job for a run that ended before it ever started).
 */
export function trainJobIdFor(run: { id: string; status: string; attempt: number }): string {
  const waiting = run.status === 'queued' || run.status === 'interrupted';
  return jobIdOf('train', run.id, waiting ? run.attempt + 1 : Math.max(1, run.attempt));
}

/** The job that starts a queued or interrupted run's next attempt, held back until its backoff (notBefore) ends. */
export function nextTrainJob(
  run: { id: string; attempt: number; priority: number; notBefore: number | null },
  now = Date.now(),
): QueuedJob<'train'> {
  return trainJob(run.id, run.attempt + 1, {
    priority: run.priority,
    delayMs: run.notBefore === null ? 0 : run.notBefore - now,
  });
}
