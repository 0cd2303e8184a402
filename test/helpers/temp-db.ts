// A migrated SQLite file in a fresh temporary directory, for integration tests; cleanup() closes and removes it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { closeDb, type Db, openDb } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';

export interface TempDb {
  db: Db;
  file: string;
  cleanup(): void;
}

export function createTempDb(): TempDb {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlxq-db-'));
  const file = path.join(dir, 'test.sqlite');
  const db = openDb(file);
  try {
    migrate(db);
  } catch (err) {
    closeDb(db);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    db,
    file,
    cleanup() {
      closeDb(db);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
