// Worker credentials: create (hash only), read by id, list, revoke, and note when a worker last used its token.
import { and, desc, eq, isNull } from 'drizzle-orm';

import { ConflictError, NotFoundError } from '../domain/errors.js';
import type { Db } from './client.js';
import { workerCredentials } from './schema.js';
import { withTransaction } from './transaction.js';

export type WorkerCredential = typeof workerCredentials.$inferSelect;

export interface NewWorkerCredential {
  id: string;
  name: string;
  labels: string[];
  tokenHash: string;
  createdAt?: number;
}

/** Creates a credential; a name another unrevoked worker already has is a conflict (placement picks by name). */
export function insertWorkerCredential(db: Db, input: NewWorkerCredential): WorkerCredential {
  return withTransaction(db, () => {
    const taken = db
      .select({ id: workerCredentials.id })
      .from(workerCredentials)
      .where(and(eq(workerCredentials.name, input.name), isNull(workerCredentials.revokedAt)))
      .get();
    if (taken)
      throw new ConflictError(
        `A worker named ${input.name} exists (${taken.id}); revoke it first or pick another name`,
      );
    return db
      .insert(workerCredentials)
      .values({ ...input, createdAt: input.createdAt ?? Date.now() })
      .returning()
      .get();
  });
}

export function getWorkerCredential(db: Db, id: string): WorkerCredential | undefined {
  return db.select().from(workerCredentials).where(eq(workerCredentials.id, id)).get();
}

/** Newest first; revoked ones too (they stay for the record). */
export function listWorkerCredentials(db: Db): WorkerCredential[] {
  return db
    .select()
    .from(workerCredentials)
    .orderBy(desc(workerCredentials.createdAt), desc(workerCredentials.id))
    .all();
}

/** Revokes a credential; revoking twice keeps the first time. Throws NotFoundError for an unknown id. */
export function revokeWorkerCredential(db: Db, id: string, now = Date.now()): WorkerCredential {
  return withTransaction(db, () => {
    db.update(workerCredentials)
      .set({ revokedAt: now })
      .where(and(eq(workerCredentials.id, id), isNull(workerCredentials.revokedAt)))
      .run();
    const row = getWorkerCredential(db, id);
    if (!row) throw new NotFoundError('Worker', id);
    return row;
  });
}

/** Records use at most once a minute per worker (a write per authenticated call would be a write per log batch). */
export function touchWorkerCredential(db: Db, cred: WorkerCredential, now = Date.now()): void {
  if (cred.lastUsedAt !== null && now - cred.lastUsedAt < 60_000) return;
  db.update(workerCredentials).set({ lastUsedAt: now }).where(eq(workerCredentials.id, cred.id)).run();
}

/** Whether `name` is a remote worker's (any credential, revoked or not, carries it). */
export function isRemoteWorkerName(db: Db, name: string): boolean {
  return (
    db
      .select({ id: workerCredentials.id })
      .from(workerCredentials)
      .where(eq(workerCredentials.name, name))
      .get() !== undefined
  );
}

/** Whether a remote worker of this name may still report: an unrevoked credential carries it. */
export function hasLiveCredential(db: Db, name: string): boolean {
  return (
    db
      .select({ id: workerCredentials.id })
      .from(workerCredentials)
      .where(and(eq(workerCredentials.name, name), isNull(workerCredentials.revokedAt)))
      .get() !== undefined
  );
}
