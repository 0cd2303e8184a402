// A test file's migrated SQLite database as one declaration: a fresh TempDb for each test, closed and removed after.
import { afterEach, beforeEach } from 'vitest';

import { createTempDb, type TempDb } from './temp-db.js';

/** Registers the hooks and returns an object whose `db` and `file` are the current test's. */
export function useTempDb(): Pick<TempDb, 'db' | 'file'> {
  let current: TempDb | undefined;
  beforeEach(() => {
    current = createTempDb();
  });
  afterEach(() => {
    current?.cleanup();
    current = undefined;
  });
  const get = (): TempDb => {
    if (current === undefined) throw new Error('the temp db is read outside a test');
    return current;
  };
  return {
    get db() {
      return get().db;
    },
    get file() {
      return get().file;
    },
  };
}
