// Runs repository calls atomically: one IMMEDIATE transaction, or a savepoint when already inside one.
import type { Db } from './client.js';

/**
 * IMMEDIATE takes the write lock at BEGIN. A deferred transaction that reads and then writes fails with
 * SQLITE_BUSY (busy_timeout cannot help) when the other process committed in between; this one waits instead.
 * `fn` must be synchronous; repository functions called inside it join the transaction (same connection).
 */
export function withTransaction<T>(db: Db, fn: () => T): T {
  // better-sqlite3 turns a nested transaction function into a SAVEPOINT on its own.
  return db.$client.transaction(fn).immediate();
}
