// Opens the SQLite file shared by the API and worker processes, with the pragmas both rely on; closes it.
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';

/** A drizzle handle; `db.$client` is the better-sqlite3 connection (one per process, passed explicitly). */
export type Db = BetterSQLite3Database & { $client: Database.Database };

const BUSY_TIMEOUT_MS = 5000;

export const DB_FILE_NAME = 'mlxq.sqlite';

/** The database file both processes open: DATA_DIR/mlxq.sqlite. */
export function dbFilePath(dataDir: string): string {
  return path.join(dataDir, DB_FILE_NAME);
}

/**
 * Opens (creating if needed) the database file. WAL lets the API read while the worker writes;
 * busy_timeout makes a second writer wait instead of failing at once; synchronous=NORMAL is durable
 * across process crashes in WAL mode (a power cut may lose the last commits, never corrupt the file).
 * foreign_keys is per connection in SQLite, so it must be set on every open.
 */
export function openDb(file: string, opts: { readonly?: boolean } = {}): Db {
  const inMemory = file === ':memory:' || file === '';
  if (!inMemory && !opts.readonly) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  // Read-only: a handle that cannot write at all (the tests prove with one that no read route writes).
  const sqlite = new Database(file, {
    timeout: BUSY_TIMEOUT_MS,
    readonly: opts.readonly ?? false,
    fileMustExist: opts.readonly ?? false,
  });
  try {
    const mode = sqlite.pragma(opts.readonly ? 'journal_mode' : 'journal_mode = WAL', { simple: true });
    if (!inMemory && mode !== 'wal')
      throw new Error(`SQLite refused WAL mode for ${file} (got ${String(mode)})`);
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (!opts.readonly) sqlite.pragma('synchronous = NORMAL');
  } catch (err) {
    sqlite.close();
    throw err;
  }
  return drizzle({ client: sqlite });
}

/** How long a write waits for the lock once the process is stopping (better-sqlite3 waits synchronously). */
const STOPPING_BUSY_TIMEOUT_MS = 250;

/**
 * For a stopping process: a write that finds the database locked (another process holds it, or the disk hangs)
 * gives up after a quarter second instead of five. better-sqlite3 waits for a lock synchronously, blocking the
 * event loop and with it the shutdown's own deadline timer, so a few such waits would break the exit bound. What
 * is not written then (a run left `running`) is settled at the next start by crash recovery.
 */
export function shortenBusyWait(db: Db): void {
  if (db.$client.open) db.$client.pragma(`busy_timeout = ${STOPPING_BUSY_TIMEOUT_MS}`);
}

/** Closes the connection; safe to call twice. Runs `PRAGMA optimize` first, as SQLite advises before closing. */
export function closeDb(db: Db): void {
  const sqlite = db.$client;
  if (!sqlite.open) return;
  try {
    if (!sqlite.readonly) sqlite.pragma('optimize');
  } finally {
    sqlite.close();
  }
}
