// Applies the committed drizzle-kit migrations in migrations/ at start-up (API, worker, CLI and tests).
import { fileURLToPath } from 'node:url';

import { readMigrationFiles } from 'drizzle-orm/migrator';

import type { Db } from './client.js';

/** migrations/ at the repository root, found from this file so any working directory works. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** drizzle's own bookkeeping table, kept compatible so `drizzle-kit migrate` agrees with us. */
const MIGRATIONS_TABLE = '__drizzle_migrations';

export interface MigrateResult {
  applied: number;
  total: number;
}

/**
 * Applies pending migrations, all in one transaction. Differs from drizzle's `migrate()` in two ways:
 * - BEGIN IMMEDIATE, and the "already applied?" check inside it: the API and the worker start together, and
 *   with drizzle's deferred BEGIN the second process would re-run CREATE TABLE and fail.
 * - foreign_keys is off while migrating (SQLite ignores the pragma inside a transaction). Table rebuilds that
 *   drizzle-kit generates drop the old table; with enforcement on, that DROP would cascade-delete child rows.
 *   PRAGMA foreign_key_check runs before COMMIT instead.
 */
export function migrate(db: Db, migrationsFolder: string = MIGRATIONS_DIR): MigrateResult {
  const migrations = readMigrationFiles({ migrationsFolder });
  const sqlite = db.$client;
  sqlite.exec(
    `CREATE TABLE IF NOT EXISTS "${MIGRATIONS_TABLE}" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`,
  );
  const fkWasOn = sqlite.pragma('foreign_keys', { simple: true }) === 1;
  sqlite.pragma('foreign_keys = OFF');
  try {
    const applied = sqlite
      .transaction(() => {
        const last = sqlite
          .prepare(`SELECT created_at FROM "${MIGRATIONS_TABLE}" ORDER BY created_at DESC LIMIT 1`)
          .get() as { created_at: number | string } | undefined;
        const lastMillis = last === undefined ? -Infinity : Number(last.created_at);
        const insert = sqlite.prepare(`INSERT INTO "${MIGRATIONS_TABLE}" (hash, created_at) VALUES (?, ?)`);
        let count = 0;
        for (const migration of migrations) {
          if (migration.folderMillis <= lastMillis) continue;
          for (const statement of migration.sql) if (statement.trim()) sqlite.exec(statement);
          insert.run(migration.hash, migration.folderMillis);
          count++;
        }
        const violations = sqlite.pragma('foreign_key_check') as unknown[];
        if (violations.length > 0) {
          throw new Error(
            `Migrations left ${violations.length} foreign key violation(s): ${JSON.stringify(violations.slice(0, 5))}`,
          );
        }
        return count;
      })
      .immediate();
    return { applied, total: migrations.length };
  } finally {
    if (fkWasOn) sqlite.pragma('foreign_keys = ON');
  }
}
