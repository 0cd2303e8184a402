// A test file's service as one declaration: a fresh TestEnv for each test (or one for the whole file), cleaned up after.
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

import { createTestEnv, type TestEnv } from './test-env.js';

/**
 * Registers the set-up and clean-up hooks and returns an object that stands for the current TestEnv, so tests write
 * `env.app` as with a variable of their own. `perFile`: one env for all the file's tests (beforeAll/afterAll).
 */
export function useTestEnv(vars: Record<string, string> = {}, { perFile = false } = {}): TestEnv {
  let current: TestEnv | undefined;
  (perFile ? beforeAll : beforeEach)(async () => {
    current = await createTestEnv(vars);
  });
  (perFile ? afterAll : afterEach)(async () => {
    await current?.cleanup();
    current = undefined;
  });
  return currentEnv(() => current);
}

/** An object that stands for whichever TestEnv `get` returns at the time of each read (set by a file's hooks). */
export function currentEnv(get: () => TestEnv | undefined): TestEnv {
  return current(get, 'the test env');
}

/** An object that stands for whichever value `get` returns at the time of each read (set by a file's hooks). */
export function current<T extends object>(get: () => T | undefined, what: string): T {
  return new Proxy({} as T, {
    get(_target, key) {
      const now = get();
      if (now === undefined) throw new Error(`${what}'s ${String(key)} is read outside a test`);
      return Reflect.get(now, key) as unknown;
    },
  });
}
