// Creating runs: one or many (a sweep) in one transaction, each with its tag rows and its first event.
import { sql } from 'drizzle-orm';

import { ConflictError } from '../domain/errors.js';
import type { NewRun, Run } from '../domain/run.js';
import type { Db } from './client.js';
import { runEvents, runs, runTags } from './schema.js';
import { isUniqueViolation, sqliteErrorMessage, withCause } from './sqlite-errors.js';
import { withTransaction } from './transaction.js';

type RunRow = typeof runs.$inferSelect;
// Compile-time check that the table and the domain type agree, field for field.
const asRun = (row: RunRow): Run => row;

/** Bound parameters per statement stay well under SQLite's 32,766 limit (runs has 43 columns). */
const INSERT_CHUNK = 200;

/** Creates a queued run, its tag rows and its first event (null -> queued) in one transaction. */
export function insertRun(db: Db, input: NewRun): Run {
  const [run] = insertRuns(db, [input]);
  if (run === undefined) throw new Error('insertRuns returned no row');
  return run;
}

/**
 * Creates many queued runs (a sweep) in one transaction: all or none. Returns them in input order.
 * A duplicate id or idempotency key throws ConflictError and rolls back the whole batch.
 */
export function insertRuns(db: Db, inputs: readonly NewRun[], now = Date.now()): Run[] {
  if (inputs.length === 0) return [];
  return withTransaction(db, () => {
    const byId = new Map<string, Run>();
    for (let i = 0; i < inputs.length; i += INSERT_CHUNK) {
      const chunk = inputs.slice(i, i + INSERT_CHUNK);
      for (const row of insertRunRows(db, chunk, now)) byId.set(row.id, asRun(row));
      const tags = chunk.flatMap((r) => [...new Set(r.tags ?? [])].map((tag) => ({ runId: r.id, tag })));
      if (tags.length > 0) db.insert(runTags).values(tags).run();
      db.insert(runEvents)
        .values(
          chunk.map((r) => ({
            runId: r.id,
            fromStatus: null,
            toStatus: 'queued' as const,
            attempt: 0,
            reason: 'created',
            at: r.createdAt ?? now,
          })),
        )
        .run();
    }
    return inputs.map((r) => {
      const run = byId.get(r.id);
      if (run === undefined) throw new Error(`run ${r.id} was not returned by its INSERT`);
      return run;
    });
  });
}

/** The one builder of a run's table row from a new run (domain/new-run.ts builds the NewRun): queued, now. */
function runRowValues(r: NewRun, now: number) {
  const createdAt = r.createdAt ?? now;
  return {
    id: r.id,
    name: r.name ?? null,
    method: r.method,
    trainMode: r.trainMode,
    model: r.model,
    data: r.data,
    status: 'queued' as const,
    priority: r.priority ?? 0,
    tags: r.tags ?? [],
    request: r.request,
    argv: r.argv,
    configYaml: r.configYaml,
    warnings: r.warnings ?? [],
    runDir: r.runDir,
    adapterPath: r.adapterPath,
    sweepId: r.sweepId ?? null,
    sweepIndex: r.sweepIndex ?? null,
    sweepValues: r.sweepValues ?? null,
    idempotencyKey: r.idempotencyKey ?? null,
    datasetSha: r.datasetSha ?? null,
    memory: r.memory ?? null,
    progressTotal: r.progressTotal ?? null,
    createdAt,
    updatedAt: createdAt,
    queuedAt: createdAt,
  };
}

function insertRunRows(db: Db, chunk: readonly NewRun[], now: number): RunRow[] {
  const values = chunk.map((r) => runRowValues(r, now));
  try {
    return values.length === 1
      ? [insertOneRun(db, values[0]!)]
      : db.insert(runs).values(values).returning().all();
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw withCause(new ConflictError(`Run already exists (${sqliteErrorMessage(err)})`), err);
    }
    throw err;
  }
}

type RunValues = typeof runs.$inferInsert;
const oneRunInserts = new WeakMap<Db, { get(values: Record<string, unknown>): unknown }>();

/**
 * The one-run INSERT of every POST /v1/runs, compiled once per connection: building and compiling it on each call
 * cost ~200 µs, more than the rest of the transaction (bench: submit breakdown). Its placeholders are the keys of
 * the first row, which are the same for every row insertRunRows builds.
 */
function insertOneRun(db: Db, values: RunValues): RunRow {
  let statement = oneRunInserts.get(db);
  if (statement === undefined) {
    const placeholders = Object.fromEntries(Object.keys(values).map((key) => [key, sql.placeholder(key)]));
    statement = db
      .insert(runs)
      .values(placeholders as unknown as RunValues)
      .returning()
      .prepare();
    oneRunInserts.set(db, statement);
  }
  const row = statement.get(values) as RunRow | undefined;
  if (row === undefined) throw new Error(`run ${values.id} was not returned by its INSERT`);
  return row;
}
