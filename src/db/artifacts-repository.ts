// Artifacts table access: record (replacing the row of the same run and path), read, list per run.
import { asc, eq, inArray } from 'drizzle-orm';

import type { Artifact } from '../domain/follow-up-job.js';
import type { Db } from './client.js';
import { artifacts } from './schema.js';

type ArtifactRow = typeof artifacts.$inferSelect;
const asArtifact = (row: ArtifactRow): Artifact => row;

export type NewArtifact = Omit<Artifact, 'createdAt'>;

/** A path recorded again (e.g. an LM Studio folder exported twice) replaces its row: one row per file or folder. */
export function recordArtifact(db: Db, input: NewArtifact, now = Date.now()): Artifact {
  const row = db
    .insert(artifacts)
    .values({ ...input, createdAt: now })
    .onConflictDoUpdate({
      target: [artifacts.runId, artifacts.path],
      set: {
        id: input.id,
        jobId: input.jobId,
        kind: input.kind,
        isDir: input.isDir,
        bytes: input.bytes,
        sha256: input.sha256,
        verified: input.verified,
        createdAt: now,
      },
    })
    .returning()
    .get();
  return asArtifact(row);
}

export function getArtifact(db: Db, id: string): Artifact | undefined {
  const row = db.select().from(artifacts).where(eq(artifacts.id, id)).get();
  return row && asArtifact(row);
}

export function listArtifactsOfRun(db: Db, runId: string): Artifact[] {
  return db
    .select()
    .from(artifacts)
    .where(eq(artifacts.runId, runId))
    .orderBy(asc(artifacts.createdAt), asc(artifacts.path))
    .all()
    .map(asArtifact);
}

export function listArtifactsOfRuns(db: Db, runIds: readonly string[]): Artifact[] {
  if (runIds.length === 0) return [];
  return db
    .select()
    .from(artifacts)
    .where(inArray(artifacts.runId, [...runIds]))
    .orderBy(asc(artifacts.createdAt))
    .all()
    .map(asArtifact);
}
