// What cancelling a run, a sweep or a follow-up job needs: SQLite for the flag, the queue to drop a waiting job,
// Redis to signal the worker that holds a running one, and a log for what could not be done at once.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

import type { Db } from '../db/client.js';
import type { Config } from '../shared/config.js';

export interface CancelDeps {
  config: Config;
  db: Db;
  queue: Queue;
  redis: Redis;
}

/** Cancelling only warns: a lost signal or a job left in the queue still ends in a cancel. */
export interface CancelLog {
  warn(obj: object, msg: string): void;
}
