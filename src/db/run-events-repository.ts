// Reads a run's status history (run_events); rows are written by runs-repository in the same transaction.
import { asc, eq } from 'drizzle-orm';

import type { RunEvent } from '../domain/run.js';
import type { Db } from './client.js';
import { runEvents } from './schema.js';

/** Oldest first; the first event is always null -> queued. */
export function listRunEvents(db: Db, runId: string): RunEvent[] {
  return db.select().from(runEvents).where(eq(runEvents.runId, runId)).orderBy(asc(runEvents.id)).all();
}
