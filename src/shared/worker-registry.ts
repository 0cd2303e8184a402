// The worker registry in Redis: each worker's entry under <prefix>:workers:<name>, living two heartbeats, and a set
// of names to list them. A worker that dies (kill -9) stops refreshing and its entry expires.
import type { Redis } from 'ioredis';

import { type WorkerEntry, workerEntrySchema } from '../domain/worker-entry.js';

const setKey = (prefix: string) => `${prefix}:workers`;
const entryKey = (prefix: string, name: string) => `${prefix}:workers:${name}`;

/** An entry lives this many heartbeat periods, so a dead worker leaves the list within two periods. */
export const ENTRY_LIFETIME_PERIODS = 2;

export async function publishWorker(redis: Redis, prefix: string, entry: WorkerEntry, heartbeatMs: number): Promise<void> {
  await redis
    .multi()
    .set(entryKey(prefix, entry.name), JSON.stringify(entry), 'PX', Math.ceil(heartbeatMs * ENTRY_LIFETIME_PERIODS))
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
