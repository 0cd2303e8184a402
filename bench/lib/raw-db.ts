// The raw baselines' SQLite file: better-sqlite3 in WAL mode with synchronous NORMAL.
import Database from 'better-sqlite3';

/** Opens (or creates) `file`; `createTable`, when given, is run on it (a CREATE TABLE statement). */
export function openRawDb(file: string, createTable?: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  if (createTable !== undefined) db.exec(createTable);
  return db;
}
