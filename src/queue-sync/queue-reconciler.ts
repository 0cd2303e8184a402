// Makes the queue match SQLite (the record; Redis only delivers): re-adds the job of every queued or interrupted
// run that has no live job, with its priority and in its order, and removes waiting jobs whose run is final,
// missing, or on another attempt. Runs at start-up, when the Redis connection comes back, and on an interval.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { Db } from '../db/client.js';
import { queueNameFor, type Requirement } from '../domain/placement.js';
import { type JobKind, parseJobId, type QueuedJob } from '../shared/job-kinds.js';
import { runQueuesOf } from '../shared/run-queues.js';

/** What the reconciler needs to know about one job kind whose delivery SQLite guarantees. */
export interface ReconcileSource {
  kind: JobKind;
  /**
   * The subjects that must have a live job now, oldest first, each with the job to add when it has none and the
   * placement requirement whose queue it belongs in (none: the shared queue).
   */
  wanted(db: Db, now: number): { subject: string; job: QueuedJob; requirement?: Requirement }[];
  /** Re-read just before adding: still waiting for exactly this job (a worker may have moved it meanwhile). */
  stillWanted(db: Db, subject: string, jobId: string): boolean;
  /** Whether a waiting job of this kind still has work to do; a job that has none is removed. */
  isCurrent(db: Db, subject: string, jobId: string): boolean;
  /** Records a re-add in the subject's history (a run event). */
  record(db: Db, subject: string, reason: string): void;
}

export interface ReconcileResult {
  readded: string[];
  removed: string[];
}

export const MISSING = 're-queued: its job was missing from Redis';
export const FINISHED = 're-queued: its job had already finished in Redis although the run still waits';

/** The states in which a job still waits for a worker. */
const WAITING_KEYS = [
  ['wait', 'list'],
  ['paused', 'list'],
  ['prioritized', 'zset'],
  ['delayed', 'zset'],
] as const;

/**
 * One pass: one indexed query per source, then one Redis pipeline (each wanted job's finishedOn, and the ids of
 * all waiting jobs). Only what disagrees is looked at again and fixed.
 */
export async function reconcileOnce(deps: {
  db: Db;
  queue: Queue;
  redis: Redis;
  logger: Logger;
  sources: readonly ReconcileSource[];
}): Promise<ReconcileResult> {
  const { db } = deps;
  const queues = runQueuesOf(deps.queue, deps.redis, deps.queue.opts.prefix ?? 'bull');
  const now = Date.now();
  // Each wanted job is looked for in the queue of its placement requirement; waiting jobs in every queue in use.
  const wanted = deps.sources.flatMap((source) =>
    source
      .wanted(db, now)
      .map((w) => ({ ...w, source, queue: queues.get(queueNameFor(w.requirement ?? {})) })),
  );
  const all = await queues.all();
  const pipeline = deps.redis.pipeline();
  for (const w of wanted) pipeline.hmget(w.queue.toKey(w.job.opts.jobId), 'name', 'finishedOn');
  for (const q of all) {
    for (const [key, type] of WAITING_KEYS) {
      if (type === 'list') pipeline.lrange(q.toKey(key), 0, -1);
      else pipeline.zrange(q.toKey(key), '0', '-1');
    }
  }
  const replies = (await pipeline.exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  const values: unknown[] = replies.map(([, v]) => v);

  const toAdd: ((typeof wanted)[number] & { reason: string })[] = [];
  const stale: { queue: Queue; jobId: string }[] = [];
  wanted.forEach((w, i) => {
    const [name, finishedOn] = values[i] as [string | null, string | null];
    if (name === null) toAdd.push({ ...w, reason: MISSING });
    else if (finishedOn !== null) {
      // BullMQ keeps a finished job for days under its id; it would swallow the add.
      stale.push({ queue: w.queue, jobId: w.job.opts.jobId });
      toAdd.push({ ...w, reason: FINISHED });
    }
  });
  const wantedIds = new Set(wanted.map((w) => w.job.opts.jobId));
  const removed: string[] = [];
  for (const [qi, q] of all.entries()) {
    const base = wanted.length + qi * WAITING_KEYS.length;
    const waitingIds = new Set(values.slice(base, base + WAITING_KEYS.length).flat() as string[]);
    for (const jobId of waitingIds) {
      if (wantedIds.has(jobId)) continue;
      const parsed = parseJobId(jobId);
      const source = parsed && deps.sources.find((s) => s.kind === parsed.kind);
      // Jobs of kinds without a source, and ids of an older version, are left alone.
      if (!parsed || !source || source.isCurrent(db, parsed.subject, jobId)) continue;
      if (await removeJob(q, jobId, deps.logger)) removed.push(jobId);
    }
  }
  for (const { queue, jobId } of stale) await removeJob(queue, jobId, deps.logger);

  const readd = toAdd.filter((a) => a.source.stillWanted(db, a.subject, a.job.opts.jobId));
  if (readd.length > 0) {
    // The requirement goes back into the registry too: a Redis that lost its data lost that as well.
    await queues.addPlaced(readd.map((a) => ({ requirement: a.requirement ?? {}, job: a.job })));
    for (const a of readd) {
      a.source.record(db, a.subject, a.reason);
      deps.logger.warn({ subject: a.subject, jobId: a.job.opts.jobId }, a.reason);
    }
  }
  if (removed.length > 0)
    deps.logger.warn(
      { jobs: removed },
      'removed waiting jobs whose run is final, missing or on another attempt',
    );
  return { readded: readd.map((a) => a.job.opts.jobId), removed };
}

async function removeJob(queue: Queue, jobId: string, logger: Logger): Promise<boolean> {
  try {
    return (await queue.remove(jobId)) === 1;
  } catch (err) {
    // A job a worker has just locked stays; its handler finds it stale and ends it.
    logger.warn({ err, jobId }, 'could not remove a stale job');
    return false;
  }
}

export interface Reconciler {
  /** The pass at start-up (its failure is logged, not thrown: the interval tries again). */
  first: Promise<void>;
  /** A pass now, or the one under way; null when it failed (logged). */
  runNow(): Promise<ReconcileResult | null>;
  stop(): Promise<void>;
}

/** Runs a pass now, every `intervalMs`, and whenever `redis` (re)connects; one pass at a time. */
export function startReconciler(deps: {
  db: Db;
  queue: Queue;
  redis: Redis;
  logger: Logger;
  sources: readonly ReconcileSource[];
  intervalMs: number;
}): Reconciler {
  let current: Promise<ReconcileResult | null> | null = null;
  let failing = false;
  let stopped = false;
  const runNow = () =>
    (current ??= reconcileOnce(deps)
      .then(
        (r) => {
          if (failing) deps.logger.info('queue reconciler: Redis reachable again');
          failing = false;
          return r;
        },
        (err: unknown) => {
          // Once per outage; the next pass comes with the interval or the reconnect.
          if (!failing)
            deps.logger.warn({ err: (err as Error).message }, 'queue reconciler pass failed; retrying later');
          failing = true;
          return null;
        },
      )
      .finally(() => (current = null)));
  const timer = setInterval(() => void runNow(), deps.intervalMs);
  timer.unref();
  // 'ready' fires on every (re)connection: a Redis that restarted may have come back empty.
  const onReady = () => {
    if (!stopped) void runNow();
  };
  deps.redis.on('ready', onReady);
  return {
    first: runNow().then(() => undefined),
    runNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      deps.redis.off('ready', onReady);
      await current;
    },
  };
}
