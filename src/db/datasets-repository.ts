// Uploaded datasets, addressed by content hash: record, read, list, and delete when no active run needs one.
import { and, desc, eq, inArray, sql } from 'drizzle-orm';

import { ConflictError } from '../domain/errors.js';
import { ACTIVE_STATUSES } from '../domain/run-status.js';
import type { Db } from './client.js';
import { datasets, runs } from './schema.js';
import { withTransaction } from './transaction.js';

export type Dataset = typeof datasets.$inferSelect;

export interface NewDataset {
  sha256: string;
  name?: string | null;
  files: string[];
  bytes: number;
  rows: Record<string, number>;
  createdAt?: number;
}

/** Records an upload; the same content uploaded again is a no-op. Returns the stored row (old or new). */
export function insertDataset(db: Db, input: NewDataset): Dataset {
  return withTransaction(db, () => {
    db.insert(datasets)
      .values({
        sha256: input.sha256,
        name: input.name ?? null,
        files: input.files,
        bytes: input.bytes,
        rows: input.rows,
        createdAt: input.createdAt ?? Date.now(),
      })
      .onConflictDoNothing()
      .run();
    const row = getDataset(db, input.sha256);
    if (row === undefined) throw new Error(`dataset ${input.sha256} vanished inside its insert transaction`);
    return row;
  });
}

export function getDataset(db: Db, sha256: string): Dataset | undefined {
  return db.select().from(datasets).where(eq(datasets.sha256, sha256)).get();
}

/** Newest first. */
export function listDatasets(db: Db, limit = 1000): Dataset[] {
  return db
    .select()
    .from(datasets)
    .orderBy(desc(datasets.createdAt), desc(datasets.sha256))
    .limit(limit)
    .all();
}

/** Runs that are queued, running or interrupted with this dataset (they still need its files). */
export function countActiveRunsUsingDataset(db: Db, sha256: string): number {
  const row = db
    .select({ n: sql<number>`count(*)` })
    .from(runs)
    .where(and(eq(runs.datasetSha, sha256), inArray(runs.status, ACTIVE_STATUSES)))
    .get();
  return row?.n ?? 0;
}

/**
 * Deletes the row when no active run uses the dataset; the check and the delete share one IMMEDIATE
 * transaction, so the count cannot go stale before the delete. Throws ConflictError when in use.
 * Returns false when there was no such dataset. Removing the files is the caller's job, after this.
 */
export function deleteDataset(db: Db, sha256: string): boolean {
  return withTransaction(db, () => {
    const active = countActiveRunsUsingDataset(db, sha256);
    if (active > 0) throw new ConflictError(`Dataset ${sha256} is used by ${active} active run(s)`);
    return db.delete(datasets).where(eq(datasets.sha256, sha256)).run().changes > 0;
  });
}
