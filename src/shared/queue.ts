// The runs queue: its name, lock settings and Redis connections for API and worker (job kinds: job-kinds.ts).
import { Queue } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

import type { QueuedJob } from './job-kinds.js';

export const RUNS_QUEUE = 'runs';

export interface WorkerLockOptions {
  lockDuration: number;
  stalledInterval: number;
  maxStalledCount: number;
  runRetryDelay: number;
}

/**
 * Lock settings for runs of many hours: the worker renews its lock every lockDuration/2, so a long lock
 * only matters when the worker cannot reach Redis. Five minutes lets a run ride out a short Redis outage
 * without being handed to a second worker; a worker that dies is noticed by the stalled check, and sooner by
 * the run-lease scan (src/worker/recovery.ts), which does not wait for the lock. lockDuration and
 * stalledInterval come from WORKER_LOCK_S and STALLED_INTERVAL_S.
 */
export const WORKER_LOCK: Readonly<WorkerLockOptions> = Object.freeze({
  lockDuration: 5 * 60_000,
  stalledInterval: 30_000,
  // Each crash of a worker mid-run is one stall; the processor resumes from a checkpoint each time.
  maxStalledCount: 50,
  // After a Redis connection error BullMQ waits this long before fetching again (its default is 15 s).
  runRetryDelay: 2_000,
});

/** Adds jobs from the catalogue in one MULTI, in order (equal priorities run first in, first out). */
export async function addJobs(queue: Queue, jobs: readonly QueuedJob[]): Promise<void> {
  if (jobs.length === 1) await queue.add(jobs[0]!.name, jobs[0]!.data, jobs[0]!.opts);
  else if (jobs.length > 1)
    await queue.addBulk(jobs.map((j) => ({ name: j.name, data: j.data, opts: j.opts })));
}

/** For request paths (API): fail fast while Redis is down instead of queueing commands in memory. */
export function apiRedisOptions(): RedisOptions {
  return {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
}

/** For the worker: BullMQ requires maxRetriesPerRequest null and waits for Redis to come back. */
export function workerRedisOptions(): RedisOptions {
  return {
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
}

export function createRedis(url: string, options: RedisOptions): Redis {
  return new Redis(url, { lazyConnect: false, ...options });
}

export function createRunsQueue(connection: Redis, prefix: string): Queue {
  return new Queue(RUNS_QUEUE, { connection, prefix });
}

/** Pub/sub channel on which the API tells workers to stop a run. */
export function cancelChannel(prefix: string): string {
  return `${prefix}:runs:cancel`;
}
