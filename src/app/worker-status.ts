// What is known about workers: the registry's entries (the silent ones marked lost), and why a waiting run waits.
import type { Redis } from 'ioredis';

import { ServiceUnavailableError } from '../domain/errors.js';
import { requirementOf } from '../domain/placement.js';
import type { Run } from '../domain/run.js';
import { placementWaiting, subjectOfRun } from '../domain/worker-admission.js';
import { markLost, waitingReason, type WorkerEntry } from '../domain/worker-entry.js';
import type { Config } from '../shared/config.js';
import { listWorkers } from '../shared/worker-registry.js';

/** A read of the registry never holds a request up for long: Redis either answers at once or is down. */
const REGISTRY_TIMEOUT_MS = 1000;

/** The registry's entries, those silent past WORKER_LOST_S shown `lost`. */
export async function readWorkers(
  redis: Redis,
  config: { queuePrefix: string; workerLostMs: number },
): Promise<WorkerEntry[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) =>
      (timer = setTimeout(
        () => reject(new Error(`no answer in ${REGISTRY_TIMEOUT_MS} ms`)),
        REGISTRY_TIMEOUT_MS,
      )),
  );
  try {
    return markLost(
      await Promise.race([listWorkers(redis, config.queuePrefix), timeout]),
      Date.now(),
      config.workerLostMs,
    );
  } catch (e) {
    throw new ServiceUnavailableError(`The worker registry (Redis) is unreachable: ${(e as Error).message}`, {
      cause: e,
    });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Why a queued or interrupted run is not training: no usable live worker (with each worker's reason), or its
 * retry backoff. Null when it simply waits its turn, or the registry cannot be read (the run view still answers).
 */
export async function runWaiting(
  redis: Redis,
  config: Config,
  run: Run,
  now = Date.now(),
): Promise<string | null> {
  if (run.status !== 'queued' && run.status !== 'interrupted') return null;
  const entries = await readWorkers(redis, config).catch(() => null);
  const noWorker = entries === null ? null : waitingReason(entries);
  if (noWorker) return noWorker;
  if (entries !== null) {
    const subject = subjectOfRun(run, config.memoryMargin);
    const placed = placementWaiting(
      subject,
      requirementOf(run.request.placement, subject.estimateGb, subject.margin),
      entries,
    );
    if (placed) return placed;
  }
  if (run.notBefore !== null && run.notBefore > now)
    return `waiting: retry backoff until ${new Date(run.notBefore).toISOString()}`;
  return null;
}
