// Takes this worker's jobs, one at a time, from every queue it may serve: the shared `runs` queue and each placement
// queue whose requirement it meets (src/shared/run-queues.ts). BullMQ's manual fetching: one Worker per queue that
// never runs its own loop; we pick the best waiting job across the queues (priority, then age), take it with
// getNextJob, and run it through BullMQ's processJob, which renews its lock and moves it to completed, failed or
// delayed. Idle, it waits for a wake-up (a job was added) or the next poll: no busy loop.
import { type Job, type Processor, Worker, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import { type Requirement, satisfies, SHARED_RUNS_QUEUE } from '../domain/placement.js';
import type { WorkerEntry } from '../domain/worker-entry.js';
import { placementClassesKey } from '../shared/run-queues.js';

/** A BullMQ Worker whose jobs this process fetches itself; its lock renewal is started by hand as run() would. */
class FetchingWorker extends Worker {
  startLockRenewal(): void {
    this.lockManager.start();
  }
}

export interface FetcherDeps {
  connection: Redis;
  prefix: string;
  options: Omit<WorkerOptions, 'connection' | 'prefix' | 'autorun' | 'concurrency'>;
  processor: Processor;
  logger: Logger;
  /** This worker as placement sees it. */
  self: () => Pick<WorkerEntry, 'name' | 'totalMemoryBytes' | 'labels'>;
  /** False while this worker may take no job (its trainer check fails, or it stops). */
  canFetch: () => boolean;
  /** An idle worker looks at the queues this often even without a wake-up (delayed jobs that came due). */
  pollMs: number;
}

export interface JobFetcher {
  /** The shared queue's Worker (its events: active, completed, failed, error). */
  shared: Worker;
  /** Look at the queues now (a job was added, or this worker may take jobs again). */
  wake(): void;
  /** Do not take this job again until `untilMs` (it was handed back: this worker cannot train it). */
  skip(jobId: string, untilMs: number): void;
  /** The job being processed now, if any. */
  current(): Promise<unknown> | null;
  /** Stops taking jobs, waits for the running one, closes the Workers. */
  close(): Promise<void>;
}

interface Head {
  queue: string;
  jobId: string;
}

export async function startJobFetcher(deps: FetcherDeps): Promise<JobFetcher> {
  const workers = new Map<string, FetchingWorker>();
  const skipped = new Map<string, number>();
  let stopped = false;
  let running: Promise<unknown> | null = null;
  let wakeUp: (() => void) | null = null;
  let seq = 0;

  const workerFor = async (name: string): Promise<FetchingWorker> => {
    let w = workers.get(name);
    if (w) return w;
    w = new FetchingWorker(name, deps.processor, {
      ...deps.options,
      connection: deps.connection,
      prefix: deps.prefix,
      autorun: false,
      concurrency: 1,
    });
    w.on('error', (err) => deps.logger.error({ err: err.message, queue: name }, 'worker error'));
    w.on('stalled', (jobId) =>
      deps.logger.warn({ jobId, queue: name }, 'job stalled: its worker stopped renewing the lock'),
    );
    workers.set(name, w);
    await w.waitUntilReady();
    // Jobs of a worker that died go back to wait in their own queue; each queue is checked by the workers serving it.
    await w.startStalledCheckTimer();
    w.startLockRenewal();
    return w;
  };

  /** The queues this worker serves now: the shared one and every placement queue whose requirement it meets. */
  const servedQueues = async (): Promise<string[]> => {
    const classes = await deps.connection.hgetall(placementClassesKey(deps.prefix));
    const me = deps.self();
    const names = [SHARED_RUNS_QUEUE];
    for (const [name, json] of Object.entries(classes)) {
      try {
        if (satisfies(JSON.parse(json) as Requirement, me)) names.push(name);
      } catch (err) {
        deps.logger.warn({ err, queue: name }, 'unreadable placement requirement; its queue is not served');
      }
    }
    return names.sort();
  };

  /** The best job waiting across the queues: lowest BullMQ priority, then oldest; due delayed jobs count. */
  const pick = async (names: string[]): Promise<Head | null> => {
    const now = Date.now();
    const key = (q: string, k: string) => `${deps.prefix}:${q}:${k}`;
    const heads = deps.connection.pipeline();
    for (const q of names) {
      heads.zrange(key(q, 'prioritized'), '0', '0');
      heads.lindex(key(q, 'wait'), -1);
      heads.zrangebyscore(key(q, 'delayed'), 0, String((now + 1) * 0x1000 - 1), 'LIMIT', 0, 1);
    }
    const replies = (await heads.exec()) ?? [];
    const found: Head[] = [];
    names.forEach((q, i) => {
      for (let k = 0; k < 3; k++) {
        const [err, v] = replies[i * 3 + k] ?? [null, null];
        if (err) throw err;
        const id = Array.isArray(v) ? (v[0] as string | undefined) : (v as string | null);
        if (id && (skipped.get(id) ?? 0) <= now) found.push({ queue: q, jobId: id });
      }
    });
    if (found.length === 0) return null;
    const meta = deps.connection.pipeline();
    for (const h of found) meta.hmget(key(h.queue, h.jobId), 'priority', 'timestamp');
    const values = ((await meta.exec()) ?? []).map(([, v]) => v as [string | null, string | null]);
    let best: { head: Head; priority: number; timestamp: number } | null = null;
    found.forEach((head, i) => {
      const [p, t] = values[i] ?? [null, null];
      const priority = Number(p ?? 0);
      const timestamp = Number(t ?? 0);
      if (!best || priority < best.priority || (priority === best.priority && timestamp < best.timestamp))
        best = { head, priority, timestamp };
    });
    return (best as { head: Head } | null)?.head ?? null;
  };

  const sleep = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wakeUp = null;
        resolve();
      }, deps.pollMs);
      wakeUp = () => {
        clearTimeout(timer);
        wakeUp = null;
        resolve();
      };
    });

  /** One look: takes and processes a job when one is there; false when there was none. */
  const once = async (): Promise<boolean> => {
    const head = await pick(await servedQueues());
    if (!head || stopped) return false;
    const w = await workerFor(head.queue);
    const token = `${w.id}:${seq++}`;
    const job: Job | undefined = await w.getNextJob(token, { block: false });
    if (!job) return true;
    running = w.processJob(job, token, () => false);
    try {
      await running;
    } finally {
      running = null;
    }
    return true;
  };

  const shared = await workerFor(SHARED_RUNS_QUEUE);
  const loop = (async () => {
    let failing = false;
    while (!stopped) {
      let took = false;
      if (deps.canFetch()) {
        try {
          took = await once();
          if (failing) deps.logger.info('taking jobs again');
          failing = false;
        } catch (err) {
          // Redis unreachable, mostly: logged once per outage; the next poll tries again.
          if (!failing)
            deps.logger.warn({ err: (err as Error).message }, 'could not look for a job; trying again');
          failing = true;
        }
      }
      for (const [id, until] of skipped) if (until <= Date.now()) skipped.delete(id);
      if (!took && !stopped) await sleep();
    }
  })();

  return {
    shared,
    wake: () => wakeUp?.(),
    skip: (jobId, untilMs) => skipped.set(jobId, untilMs),
    current: () => running,
    async close() {
      stopped = true;
      wakeUp?.();
      await loop;
      for (const w of workers.values())
        await w
          .close()
          .catch((err: unknown) => deps.logger.warn({ err, queue: w.name }, 'closing a queue worker failed'));
    },
  };
}
