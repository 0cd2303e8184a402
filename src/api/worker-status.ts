// What the API tells about workers: the registry's entries as HTTP shapes, and why a waiting run waits.
import type { Redis } from 'ioredis';

import type { Run } from '../domain/run.js';
import { describeWorkerState, isUsable, waitingReason, type WorkerEntry } from '../domain/worker-entry.js';
import { ServiceUnavailableError } from '../domain/errors.js';
import { listWorkers } from '../shared/worker-registry.js';

/** A read of the registry never holds a request up for long: Redis either answers at once or is down. */
const REGISTRY_TIMEOUT_MS = 1000;

export async function readWorkers(redis: Redis, prefix: string): Promise<WorkerEntry[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${REGISTRY_TIMEOUT_MS} ms`)), REGISTRY_TIMEOUT_MS)));
  try {
    return await Promise.race([listWorkers(redis, prefix), timeout]);
  } catch (e) {
    throw new ServiceUnavailableError(`The worker registry (Redis) is unreachable: ${(e as Error).message}`, { cause: e });
  } finally {
    clearTimeout(timer);
  }
}

export function workerView(e: WorkerEntry) {
  return { ...e, stateText: describeWorkerState(e), usable: isUsable(e), startedAt: new Date(e.startedAt).toISOString(), lastSeen: new Date(e.lastSeen).toISOString() };
}

export function workersView(entries: readonly WorkerEntry[]) {
  return { items: entries.map(workerView), usable: entries.filter(isUsable).length, waiting: waitingReason(entries) };
}

/**
 * Why a queued or interrupted run is not training: no usable live worker (with each worker's reason), or its
 * retry backoff. Null when it simply waits its turn, or the registry cannot be read (the run view still answers).
 */
export async function runWaiting(redis: Redis, prefix: string, run: Run, now = Date.now()): Promise<string | null> {
  if (run.status !== 'queued' && run.status !== 'interrupted') return null;
  const entries = await readWorkers(redis, prefix).catch(() => null);
  const noWorker = entries === null ? null : waitingReason(entries);
  if (noWorker) return noWorker;
  if (run.notBefore !== null && run.notBefore > now) return `waiting: retry backoff until ${new Date(run.notBefore).toISOString()}`;
  return null;
}
