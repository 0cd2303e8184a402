// The follow-up outbox: queued job rows (written by the API, or by the final-status hook inside a run's last
// transaction) are added to the queue. Adding is idempotent (each job's BullMQ id is fixed), so a row is queued
// whether the process that wrote it crashed before queueing or not.
import type { Logger } from 'pino';

import type { Db } from '../../db/client.js';
import { listJobsByStatus } from '../../db/jobs-repository.js';
import { queueFollowUps } from '../../queue-sync/run-placement.js';
import type { RunQueues } from '../../shared/run-queues.js';

/** Each job goes to its run's queue (placement): see src/queue-sync/run-placement.ts. */
export function startFollowUpOutbox(
  db: Db,
  queues: RunQueues,
  margin: number,
  logger: Logger,
  intervalMs = 1000,
): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  // Attempts this process has queued already (`<job>:<attempt>`): only new ones go to Redis on each tick; a job
  // queued again after its worker died is a new attempt.
  let sent = new Set<string>();
  const key = (j: { id: string; attempt: number }) => `${j.id}:${j.attempt}`;
  const tick = () => {
    if (running) return;
    running = (async () => {
      const queued = listJobsByStatus(db, ['queued']);
      const fresh = queued.filter((j) => !sent.has(key(j)));
      if (fresh.length) await queueFollowUps(db, queues, fresh, margin);
      sent = new Set(queued.map(key));
    })()
      .catch((err: unknown) =>
        logger.warn({ err: (err as Error).message }, 'follow-up outbox: could not queue jobs; trying again'),
      )
      .finally(() => (running = null));
  };
  const timer = setInterval(tick, intervalMs);
  tick();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
