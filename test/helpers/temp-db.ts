// A migrated SQLite file in a fresh temporary directory, for integration tests; cleanup() closes and removes it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { closeDb, type Db, openDb } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { newRunRow } from '../../src/domain/new-run.js';
import type { NewRun } from '../../src/domain/run.js';

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

/** The smallest run row the repositories accept, for tests about other tables (built as the service builds one). */
export function minimalNewRun(id: string, over: Partial<NewRun> = {}): NewRun {
  const request = { method: 'sft' as const, model: 'm', data: 'd', tags: [], priority: 0, fuse: false };
  const command = { argv: [], configYaml: '', adapterPath: id };
  return { ...newRunRow({ id, request, warnings: [], runDir: id, command }), ...over };
}
