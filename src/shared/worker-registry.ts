// The worker registry in Redis: each worker's entry under <prefix>:workers:<name>, and a set of names to list them.
// A worker that dies (kill -9) stops refreshing: the API shows it lost after WORKER_LOST_S, and its entry expires a
// day after that (a clean stop removes it at once).
import type { Redis } from 'ioredis';

import { type WorkerEntry, workerEntrySchema } from '../domain/worker-entry.js';

const setKey = (prefix: string) => `${prefix}:workers`;
const entryKey = (prefix: string, name: string) => `${prefix}:workers:${name}`;

/** A lost worker stays listed (as lost) this long after WORKER_LOST_S, then its entry expires. */
export const LOST_KEPT_MS = 24 * 3600_000;

/** How long an entry lives without a refresh: long enough to be shown lost, and at least two heartbeats. */
export function entryLifetimeMs(heartbeatMs: number, lostMs: number): number {
  return Math.ceil(Math.max(2 * heartbeatMs, lostMs + LOST_KEPT_MS));
}

export async function publishWorker(
  redis: Redis,
  prefix: string,
  entry: WorkerEntry,
  lifetimeMs: number,
): Promise<void> {
  await redis
    .multi()
    .set(entryKey(prefix, entry.name), JSON.stringify(entry), 'PX', lifetimeMs)
    .sadd(setKey(prefix), entry.name)
    .exec();
}

/** A worker that stops cleanly leaves the list at once. */
export async function removeWorker(redis: Redis, prefix: string, name: string): Promise<void> {
  await redis.multi().del(entryKey(prefix, name)).srem(setKey(prefix), name).exec();
}

/** Live entries by name; names whose entry expired are dropped from the set. Unparsable entries are skipped. */
export async function listWorkers(redis: Redis, prefix: string): Promise<WorkerEntry[]> {
  const names = (await redis.smembers(setKey(prefix))).sort();
  if (names.length === 0) return [];
  const values = await redis.mget(names.map((n) => entryKey(prefix, n)));
  const gone = names.filter((_, i) => values[i] === null);
  if (gone.length > 0) await redis.srem(setKey(prefix), ...gone);
  const entries: WorkerEntry[] = [];
  for (const v of values) {
    if (v === null) continue;
    const parsed = workerEntrySchema.safeParse(safeJson(v));
    if (parsed.success) entries.push(parsed.data);
  }
  return entries;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Handled: a torn or foreign value is not an entry; the caller skips it.
    return null;
  }
}
