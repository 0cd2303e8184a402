// Creating runs against a real migrated SQLite file: one run (defaults, JSON columns, tags, the created event,
// idempotency keys) and a thousand in one transaction, all or nothing.
import { describe, expect, it } from 'vitest';

import {
  countRunsByStatus,
  findRunByIdempotencyKey,
  getRun,
  insertRun,
  insertRuns,
  listRunEvents,
} from '../../src/db/runs-repository.js';
import { withTransaction } from '../../src/db/transaction.js';
import { ConflictError } from '../../src/domain/errors.js';
import { newRun } from '../helpers/numbered-run.js';
import { useTempDb } from '../helpers/use-temp-db.js';

const t = useTempDb();

describe('insertRun', () => {
  it('creates a queued run with defaults, parsed JSON columns, tag rows and a null -> queued event', () => {
    const run = insertRun(
      t.db,
      newRun(1, { tags: ['a', 'b', 'a'], warnings: [{ path: 'lr', message: 'high' }] }),
    );
    expect(run).toMatchObject({
      id: 'run_00001',
      status: 'queued',
      attempt: 0,
      priority: 0,
      tags: ['a', 'b', 'a'],
      checkpoints: [],
      warnings: [{ path: 'lr', message: 'high' }],
      argv: ['python3', '-m', 'mlx_lm_lora.train', '--config', 'config.yaml'],
      adapterFile: null,
      logBytes: 0,
      queuedAt: run.createdAt,
      updatedAt: run.createdAt,
    });
    expect(run.request.iters).toBe(10);
    expect(getRun(t.db, run.id)).toEqual(run);
    const tags = t.db.$client
      .prepare('SELECT tag FROM run_tags WHERE run_id = ? ORDER BY tag')
      .pluck()
      .all(run.id);
    expect(tags).toEqual(['a', 'b']);
    expect(listRunEvents(t.db, run.id)).toEqual([
      expect.objectContaining({
        runId: run.id,
        fromStatus: null,
        toStatus: 'queued',
        attempt: 0,
        reason: 'created',
      }),
    ]);
  });

  it('returns undefined for an unknown id', () => {
    expect(getRun(t.db, 'nope')).toBeUndefined();
  });

  it('rejects a second run with the same idempotency key with ConflictError and keeps the first', () => {
    insertRun(t.db, newRun(1, { idempotencyKey: 'key-1' }));
    expect(() => insertRun(t.db, newRun(2, { idempotencyKey: 'key-1' }))).toThrow(ConflictError);
    expect(findRunByIdempotencyKey(t.db, 'key-1')?.id).toBe('run_00001');
    expect(getRun(t.db, 'run_00002')).toBeUndefined();
    expect(findRunByIdempotencyKey(t.db, 'key-2')).toBeUndefined();
  });

  it('rejects a duplicate id with ConflictError', () => {
    insertRun(t.db, newRun(1));
    expect(() => insertRun(t.db, newRun(1))).toThrow(ConflictError);
  });
});

describe('insertRuns', () => {
  it('inserts 1,000 runs, their tags and events in one transaction, returned in input order', () => {
    const inputs = Array.from({ length: 1000 }, (_, i) =>
      newRun(i, { tags: ['sweep-x'], createdAt: 1_700_000_000_000 }),
    );
    const before = t.db.$client.prepare('SELECT count(*) FROM run_events').pluck().get();
    const created = insertRuns(t.db, inputs); // how fast: bench/figures/repository.ts
    expect(created.map((r) => r.id)).toEqual(inputs.map((r) => r.id));
    expect(countRunsByStatus(t.db, ['queued'])).toBe(1000);
    expect(t.db.$client.prepare("SELECT count(*) FROM run_tags WHERE tag = 'sweep-x'").pluck().get()).toBe(
      1000,
    );
    expect(t.db.$client.prepare('SELECT count(*) FROM run_events').pluck().get()).toBe(Number(before) + 1000);
  });

  it('is all or nothing: a duplicate at the end of the batch leaves no run behind', () => {
    insertRun(t.db, newRun(999, { idempotencyKey: 'dup' }));
    const inputs = Array.from({ length: 1000 }, (_, i) => newRun(10_000 + i));
    inputs[999] = newRun(20_000, { idempotencyKey: 'dup' });
    expect(() => insertRuns(t.db, inputs)).toThrow(ConflictError);
    expect(countRunsByStatus(t.db, ['queued'])).toBe(1);
    expect(t.db.$client.prepare('SELECT count(*) FROM run_events').pluck().get()).toBe(1);
  });

  it('joins an enclosing transaction, so a sweep and its runs can be created together', () => {
    expect(() =>
      withTransaction(t.db, () => {
        insertRuns(t.db, [newRun(1), newRun(2)]);
        throw new Error('enqueue failed');
      }),
    ).toThrow('enqueue failed');
    expect(getRun(t.db, 'run_00001')).toBeUndefined();
  });
});
