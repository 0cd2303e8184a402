// Wires a BullMQ Worker (concurrency 1) to the processor, listens for cancel signals and shuts down cleanly.
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { Db } from '../db/client.js';
import type { Config } from '../shared/config.js';
import { cancelChannel, RUNS_QUEUE, WORKER_LOCK } from '../shared/queue.js';
import { preflightMlx } from './preflight.js';
import { createProcessor, type ProcessorDeps } from './process-run.js';

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
  lock?: Partial<typeof WORKER_LOCK>;
}

export async function startWorker(deps: StartWorkerDeps): Promise<WorkerHandle> {
  const preflight = await preflightMlx(deps.config.mlxPython, deps.trainerEnv);
  if (preflight.error) deps.logger.error(preflight.error);
  else deps.logger.info({ version: preflight.version }, 'mlx-lm-lora found');
  const active = new Map<string, AbortController>();
  const processor = createProcessor({ ...deps, preflight, active });
  const channel = cancelChannel(deps.config.queuePrefix);
  await deps.subscriber.subscribe(channel);
  deps.subscriber.on('message', (ch, runId) => {
    if (ch === channel) active.get(runId)?.abort('cancelled');
  });
  const worker = new Worker(RUNS_QUEUE, processor, {
    connection: deps.connection,
    prefix: deps.config.queuePrefix,
    concurrency: 1,
    ...WORKER_LOCK,
    ...deps.lock,
  });
  worker.on('error', (err) => deps.logger.error({ err }, 'worker error'));
  await worker.waitUntilReady();
  return {
    worker,
    preflight,
    active,
    async close(mode = deps.config.shutdownMode) {
      const closing = worker.close();
      if (mode === 'requeue') for (const c of active.values()) c.abort('shutdown');
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          for (const c of active.values()) c.abort('shutdown');
          resolve();
        }, deps.config.shutdownDeadlineMs);
      });
      await Promise.race([closing, deadline]);
      await closing;
      clearTimeout(timer);
      await deps.subscriber.unsubscribe(channel).catch(() => undefined);
    },
  };
}
