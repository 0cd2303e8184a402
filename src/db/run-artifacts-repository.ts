// run_artifacts: the files a worker uploaded for a run (by name, bytes in the blob store), newest checkpoint first.
import { and, desc, eq, isNotNull } from 'drizzle-orm';

import type { Db } from './client.js';
import { runArtifacts } from './schema.js';

export type RunArtifact = typeof runArtifacts.$inferSelect;
export type NewRunArtifact = Omit<RunArtifact, 'createdAt'> & { createdAt?: number };

/** Records a file; the same name again (a re-upload, or a newer adapters.safetensors) points it at the new bytes. */
export function upsertArtifact(db: Db, a: NewRunArtifact): RunArtifact {
  const values = { ...a, createdAt: a.createdAt ?? Date.now() };
  return db
    .insert(runArtifacts)
    .values(values)
    .onConflictDoUpdate({ target: [runArtifacts.runId, runArtifacts.name], set: { kind: a.kind, iteration: a.iteration, attempt: a.attempt, sha256: a.sha256, bytes: a.bytes, createdAt: values.createdAt } })
    .returning()
    .get();
}

export function listArtifacts(db: Db, runId: string): RunArtifact[] {
  return db.select().from(runArtifacts).where(eq(runArtifacts.runId, runId)).orderBy(runArtifacts.name).all();
}

export function getArtifact(db: Db, runId: string, name: string): RunArtifact | undefined {
  return db.select().from(runArtifacts).where(and(eq(runArtifacts.runId, runId), eq(runArtifacts.name, name))).get();
}

/** The checkpoint with the highest iteration: where a run resumes on another Mac. */
export function newestCheckpointArtifact(db: Db, runId: string): RunArtifact | undefined {
  return db
    .select()
    .from(runArtifacts)
    .where(and(eq(runArtifacts.runId, runId), eq(runArtifacts.kind, 'checkpoint'), isNotNull(runArtifacts.iteration)))
    .orderBy(desc(runArtifacts.iteration))
    .limit(1)
    .get();
}
