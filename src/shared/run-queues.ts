// The runs' job queues: the shared `runs` queue and one queue per placement requirement (src/domain/placement.ts).
// A run's jobs (its train jobs and its follow-up jobs) always go to the queue of its requirement, so only workers that
// meet it ever see them. The requirements
// in use are kept in a Redis hash that workers read to know which queues to poll; adding a job also wakes them.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

import {
  type Placement,
  queueNameFor,
  type Requirement,
  requirementOf,
  SHARED_RUNS_QUEUE,
} from '../domain/placement.js';
import type { QueuedJob } from './job-kinds.js';
import { addJobs } from './queue.js';

/** Hash: placement queue name -> its requirement (JSON). */
export const placementClassesKey = (prefix: string) => `${prefix}:placement:classes`;
/** Pub/sub channel: a job was added somewhere; idle workers look at once instead of at their next poll. */
export const workChannel = (prefix: string) => `${prefix}:runs:work`;

/** What decides a run's queue: its placement and the memory estimate recorded at submit. */
export interface PlacedRun {
  request: { placement?: Placement };
  memory: { estimate_gb: number | null; margin: number } | null;
}

export function runRequirement(run: PlacedRun, margin: number): Requirement {
  return requirementOf(run.request.placement, run.memory?.estimate_gb ?? null, run.memory?.margin ?? margin);
}

export function runQueueName(run: PlacedRun, margin: number): string {
  return queueNameFor(runRequirement(run, margin));
}

/** The queues of one prefix, made on demand on the shared queue's connection. */
export class RunQueues {
  private readonly queues = new Map<string, Queue>();

  constructor(
    readonly shared: Queue,
    private readonly redis: Redis,
    readonly prefix: string,
  ) {
    this.queues.set(shared.name, shared);
  }

  get(name: string): Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: this.redis, prefix: this.prefix });
      // Its connection is shared with the shared queue, whose owner handles connection errors.
      q.on('error', () => undefined);
      this.queues.set(name, q);
    }
    return q;
  }

  /** The queue of a run's jobs (train and follow-up). */
  forRun(run: PlacedRun, margin: number): Queue {
    return this.get(runQueueName(run, margin));
  }

  /** Every placement queue in use (from the hash) and the shared one. */
  async all(): Promise<Queue[]> {
    const names = Object.keys(await this.redis.hgetall(placementClassesKey(this.prefix))).sort();
    return [this.shared, ...names.filter((n) => n !== SHARED_RUNS_QUEUE).map((n) => this.get(n))];
  }

  /** The placement queues in use, by name, each with the requirement its runs make (null if unreadable). */
  async placed(): Promise<{ queue: Queue; requirement: Requirement | null }[]> {
    const classes = await this.redis.hgetall(placementClassesKey(this.prefix));
    return Object.keys(classes)
      .filter((n) => n !== SHARED_RUNS_QUEUE)
      .sort()
      .map((n) => ({ queue: this.get(n), requirement: parseRequirement(classes[n]!) }));
  }

  /** Adds a run's jobs (train, or a follow-up of the run), each to its run's queue, in order; see addPlaced. */
  async addRunJobs(items: readonly { run: PlacedRun; job: QueuedJob }[], margin: number): Promise<void> {
    await this.addPlaced(items.map(({ run, job }) => ({ requirement: runRequirement(run, margin), job })));
  }

  /**
   * Adds jobs, each to the queue of its requirement, in order (one MULTI per queue); registers the requirements
   * first, so that the workers meeting them poll those queues; then wakes idle workers.
   */
  async addPlaced(items: readonly { requirement: Requirement; job: QueuedJob }[]): Promise<void> {
    const byQueue = new Map<string, { requirement: Requirement; jobs: QueuedJob[] }>();
    for (const { requirement, job } of items) {
      const name = queueNameFor(requirement);
      const group = byQueue.get(name) ?? { requirement, jobs: [] };
      group.jobs.push(job);
      byQueue.set(name, group);
    }
    const classes = [...byQueue]
      .filter(([name]) => name !== SHARED_RUNS_QUEUE)
      .flatMap(([name, g]) => [name, JSON.stringify(g.requirement)]);
    if (classes.length > 0) await this.redis.hset(placementClassesKey(this.prefix), ...classes);
    for (const [name, group] of byQueue) await addJobs(this.get(name), group.jobs);
    await this.wake();
  }

  /** Tells idle workers to look at their queues now (best effort: they also poll). */
  async wake(): Promise<void> {
    await this.redis.publish(workChannel(this.prefix), 'train').catch(() => undefined);
  }
}

function parseRequirement(json: string): Requirement | null {
  try {
    return JSON.parse(json) as Requirement;
  } catch {
    return null;
  }
}

const cache = new WeakMap<Queue, RunQueues>();

/** The RunQueues around a shared runs queue (one per queue object, so placement queues are made once). */
export function runQueuesOf(shared: Queue, redis: Redis, prefix: string): RunQueues {
  let q = cache.get(shared);
  if (!q) {
    q = new RunQueues(shared, redis, prefix);
    cache.set(shared, q);
  }
  return q;
}
