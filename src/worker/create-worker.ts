// Wires a BullMQ Worker (concurrency 1) to the processor: recovers runs of dead workers first, listens for cancel
// signals, and shuts down cleanly (wait for the training, or stop it and re-queue it, with a deadline).
import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { Db } from '../db/client.js';
import type { Config } from '../shared/config.js';
import { probeMlxLmVersion, writeMlxLmVersion } from '../shared/mlx-lm-version.js';
import { cancelChannel, createRunsQueue, RUNS_QUEUE, WORKER_LOCK, type WorkerLockOptions } from '../shared/queue.js';
import { startFollowUpOutbox } from './follow-up/outbox.js';
import { createFollowUpHandler } from './follow-up/process-follow-up.js';
import { preflightMlx } from './preflight.js';
import { createDispatcher } from './job-handlers.js';
import { createTrainHandler, type ProcessorDeps } from './process-run.js';
import { startRecoveryLoop } from './recovery.js';
import { workerIdentity } from './run-lease.js';

export interface WorkerHandle {
  worker: Worker;
  preflight: ProcessorDeps['preflight'];
  active: Map<string, AbortController>;
  /** Stop taking jobs; 'wait' lets the running training finish, 'requeue' stops it for a later resume. */
  close(mode?: 'wait' | 'requeue'): Promise<void>;
}

export interface StartWorkerDeps {
  config: Config;
  db: Db;
  logger: Logger;
  /** Two connections: one for the worker (blocking), one subscribed to cancel signals. */
  connection: Redis;
  subscriber: Redis;
  resolveData: (data: string) => Promise<string>;
  trainerEnv?: Record<string, string>;
  lock?: Partial<WorkerLockOptions>;
}

export async function startWorker(deps: StartWorkerDeps): Promise<WorkerHandle> {
  const { config, logger } = deps;
  const preflight = await preflightMlx(config.mlxPython, deps.trainerEnv);
  if (preflight.error) logger.error(preflight.error);
  else logger.info({ version: preflight.version }, 'mlx-lm-lora found');
  // The API refuses GGUF exports on mlx-lm versions whose writer is broken: it reads what this worker found.
  const mlxLm = await probeMlxLmVersion(config.mlxPython, deps.trainerEnv);
  await writeMlxLmVersion(config.dataDir, mlxLm, config.workerName).catch((err: unknown) => logger.warn({ err }, 'could not record the mlx-lm version'));
  const self = await workerIdentity(config.workerName);
  const active = new Map<string, AbortController>();
  const shutdown = new AbortController();
  const lock = { ...WORKER_LOCK, lockDuration: config.lockDurationMs, stalledInterval: config.stalledIntervalMs, ...deps.lock };

  // Before taking jobs: runs a dead worker of this host left running are interrupted and their jobs released.
  const queue = createRunsQueue(deps.connection, config.queuePrefix);
  // Its connection is the worker's, whose errors the process already logs; unhandled, BullMQ prints them raw.
  queue.on('error', (err) => logger.debug({ err: err.message }, 'recovery queue error'));
  const recovery = startRecoveryLoop({ db: deps.db, logger, self, killGraceMs: config.killGraceMs, queue, active }, lock.stalledInterval);
  await recovery.first;

  const channel = cancelChannel(config.queuePrefix);
  await deps.subscriber.subscribe(channel);
  const onCancel = (ch: string, runId: string) => {
    if (ch === channel) active.get(runId)?.abort('cancelled');
  };
  deps.subscriber.on('message', onCancel);

  const train = createTrainHandler({ ...deps, config: { ...config, stalledIntervalMs: lock.stalledInterval }, preflight, active, self, shutdown: shutdown.signal, queue });
  const processFollowUp = createFollowUpHandler({ ...deps, active, shutdown: shutdown.signal });
  const followUp = (payload: { jobId: string }, job: Job, token: string | undefined) => processFollowUp(payload, job, token);
  // Follow-up jobs (evaluate, samples, fuse, export) share the queue, so one GPU job runs at a time.
  const processor = createDispatcher({ train, evaluate: followUp, samples: followUp, fuse: followUp, export: followUp });
  const worker = new Worker(RUNS_QUEUE, processor, { connection: deps.connection, prefix: config.queuePrefix, concurrency: 1, ...lock });
  worker.on('error', (err) => logger.error({ err: err.message }, 'worker error'));
  worker.on('stalled', (jobId) => logger.warn({ jobId }, 'job stalled: its worker stopped renewing the lock'));
  await worker.waitUntilReady();
  const outbox = startFollowUpOutbox(deps.db, queue, logger);
  return {
    worker,
    preflight,
    active,
    async close(mode = config.shutdownMode) {
      await recovery.stop();
      await outbox.stop();
      const closing = worker.close();
      if (mode === 'requeue') shutdown.abort();
      // Past the deadline a 'wait' shutdown stops the training too (it resumes on the next start).
      const deadline = setTimeout(() => shutdown.abort(), config.shutdownDeadlineMs);
      try {
        await closing;
      } finally {
        clearTimeout(deadline);
        deps.subscriber.off('message', onCancel);
        await deps.subscriber.unsubscribe(channel).catch((err: unknown) => logger.warn({ err }, 'unsubscribe failed'));
        await queue.close();
      }
    },
  };
}
