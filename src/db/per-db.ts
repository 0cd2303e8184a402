// Memoises prepared statements per database connection, so hot paths compile their SQL once.
import type { Db } from './client.js';

/** Wraps a builder so it runs once per Db; the cache entry goes away with the Db object. */
export function perDb<T>(build: (db: Db) => T): (db: Db) => T {
  const cache = new WeakMap<Db, T>();
  return (db) => {
    let value = cache.get(db);
    if (value === undefined) {
      value = build(db);
      cache.set(db, value);
    }
    return value;
  };
}
