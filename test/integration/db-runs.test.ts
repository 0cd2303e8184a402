// Runs repository against a real migrated SQLite file: creation, compare-and-set transitions, events,
// attempts, keyset pagination with filters, tags, bulk inserts and the query plans behind the list.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { closeDb, openDb } from '../../src/db/client.js';
import { type ListRunsFilter, listRunsQuery } from '../../src/db/runs-list.js';
import {
  countRunsByStatus,
  deleteRun,
  findRunByIdempotencyKey,
  finishAttempt,
  getRun,
  insertRun,
  insertRuns,
  listAttempts,
  listRunEvents,
  listRuns,
  requestCancel,
  startAttempt,
  transitionRun,
  updateRunProgress,
} from '../../src/db/runs-repository.js';
import { withTransaction } from '../../src/db/transaction.js';
import { ConflictError, NotFoundError, RequestValidationError } from '../../src/domain/errors.js';
import type { Method } from '../../src/domain/methods.js';
import type { NewRun, Run } from '../../src/domain/run.js';
import { InvalidTransitionError, type RunStatus } from '../../src/domain/run-status.js';
import { createTempDb, type TempDb } from '../helpers/temp-db.js';

function newRun(i: number, over: Partial<NewRun> = {}): NewRun {
  const method: Method = over.method ?? 'sft';
  const tags = over.tags ?? [];
  return {
    id: `run_${String(i).padStart(5, '0')}`,
    method,
    trainMode: method === 'gspo' ? 'grpo' : 'sft',
    model: 'mlx-community/Qwen3-0.6B-4bit',
    data: 'dataset:abc',
    tags,
    priority: 0,
    request: {
      method,
      model: 'mlx-community/Qwen3-0.6B-4bit',
      data: 'dataset:abc',
      tags,
      priority: 0,
      fuse: false,
      iters: 10,
    },
    argv: ['python3', '-m', 'mlx_lm_lora.train', '--config', 'config.yaml'],
    configYaml: 'iters: 10\n',
    runDir: `runs/run_${i}`,
    adapterPath: `runs/run_${i}/adapters`,
    createdAt: 1_700_000_000_000 + i,
    ...over,
  };
}

let t: TempDb;
beforeEach(() => {
  t = createTempDb();
});
afterEach(() => {
  t.cleanup();
});

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

describe('transitionRun', () => {
  it('lets only the first of two transitions from the same status win; the second throws ConflictError', () => {
    const run = insertRun(t.db, newRun(1));
    const running = transitionRun(t.db, run.id, 'queued', 'running', { worker: 'w1' }, 'picked up');
    expect(running.status).toBe('running');
    expect(() => transitionRun(t.db, run.id, 'queued', 'cancelled', {}, 'user')).toThrow(ConflictError);
    expect(getRun(t.db, run.id)?.status).toBe('running');
    expect(listRunEvents(t.db, run.id).map((e) => [e.fromStatus, e.toStatus, e.reason])).toEqual([
      [null, 'queued', 'created'],
      ['queued', 'running', 'picked up'],
    ]);
  });

  it('detects a conflict across two connections to the same file (API and worker processes)', () => {
    const other = openDb(t.file);
    try {
      const run = insertRun(t.db, newRun(1));
      expect(getRun(other, run.id)?.status).toBe('queued');
      transitionRun(other, run.id, 'queued', 'cancelled', {}, 'cancelled by user');
      expect(() => transitionRun(t.db, run.id, 'queued', 'running')).toThrow(ConflictError);
      expect(getRun(t.db, run.id)?.status).toBe('cancelled');
    } finally {
      closeDb(other);
    }
  });

  it('accepts a list of from statuses and records the actual previous status in the event', () => {
    const run = insertRun(t.db, newRun(1));
    transitionRun(t.db, run.id, ['queued', 'running', 'interrupted'], 'cancelled', {}, 'user');
    const events = listRunEvents(t.db, run.id);
    expect(events.at(-1)).toMatchObject({ fromStatus: 'queued', toStatus: 'cancelled', reason: 'user' });
  });

  it('throws InvalidTransitionError before writing anything when the table forbids the move', () => {
    const run = insertRun(t.db, newRun(1));
    expect(() => transitionRun(t.db, run.id, 'queued', 'succeeded')).toThrow(InvalidTransitionError);
    expect(() => transitionRun(t.db, run.id, ['queued', 'succeeded'], 'cancelled')).toThrow(
      InvalidTransitionError,
    );
    expect(getRun(t.db, run.id)?.status).toBe('queued');
    expect(listRunEvents(t.db, run.id)).toHaveLength(1);
  });

  it('throws NotFoundError for an unknown run', () => {
    expect(() => transitionRun(t.db, 'missing', 'queued', 'running')).toThrow(NotFoundError);
  });

  it('counts attempts, keeps the first start time, and sets finish time and duration on a final status', () => {
    const run = insertRun(t.db, newRun(1));
    const first = transitionRun(t.db, run.id, 'queued', 'running');
    expect(first.attempt).toBe(1);
    expect(first.startedAt).not.toBeNull();
    updateRunProgress(t.db, run.id, { trainerPid: 4242 });
    const interrupted = transitionRun(t.db, run.id, 'running', 'interrupted', { stopReason: 'shutdown' });
    expect(interrupted.trainerPid).toBeNull();
    expect(interrupted.finishedAt).toBeNull();
    const requeued = transitionRun(t.db, run.id, 'interrupted', 'queued');
    expect(requeued.queuedAt).toBeGreaterThanOrEqual(run.queuedAt ?? 0);
    const second = transitionRun(t.db, run.id, 'queued', 'running');
    expect(second.attempt).toBe(2);
    expect(second.startedAt).toBe(first.startedAt);
    const done = transitionRun(t.db, run.id, 'running', 'succeeded', {
      adapterFile: 'adapters.safetensors',
      checkpoints: ['0000100_adapters.safetensors'],
      exitCode: 0,
    });
    expect(done).toMatchObject({
      status: 'succeeded',
      adapterFile: 'adapters.safetensors',
      exitCode: 0,
      attempt: 2,
    });
    expect(done.checkpoints).toEqual(['0000100_adapters.safetensors']);
    expect(done.finishedAt).not.toBeNull();
    expect(done.durationMs).toBe((done.finishedAt ?? 0) - (first.startedAt ?? 0));
    expect(listRunEvents(t.db, run.id).map((e) => `${e.fromStatus}->${e.toStatus}@${e.attempt}`)).toEqual([
      'null->queued@0',
      'queued->running@1',
      'running->interrupted@1',
      'interrupted->queued@1',
      'queued->running@2',
      'running->succeeded@2',
    ]);
  });

  it('lets the patch override the automatic fields', () => {
    const run = insertRun(t.db, newRun(1));
    const running = transitionRun(t.db, run.id, 'queued', 'running', { attempt: 7, startedAt: 1000 });
    expect(running).toMatchObject({ attempt: 7, startedAt: 1000 });
    const failed = transitionRun(t.db, run.id, 'running', 'failed', { finishedAt: 5000, error: 'boom' });
    expect(failed).toMatchObject({ finishedAt: 5000, durationMs: 4000, error: 'boom' });
  });

  it('does not let a cancelled run be cancelled twice', () => {
    const run = insertRun(t.db, newRun(1));
    transitionRun(t.db, run.id, ['queued', 'running'], 'cancelled');
    expect(() => transitionRun(t.db, run.id, ['queued', 'running'], 'cancelled')).toThrow(ConflictError);
  });
});

describe('progress, cancel requests, deletion and counts', () => {
  it('updates progress fields without touching status; NaN loss is stored as null', () => {
    const run = insertRun(t.db, newRun(1));
    expect(
      updateRunProgress(t.db, run.id, {
        progressIteration: 5,
        progressTotal: 100,
        latestLoss: NaN,
        logLines: 3,
      }),
    ).toBe(true);
    expect(getRun(t.db, run.id)).toMatchObject({
      status: 'queued',
      progressIteration: 5,
      progressTotal: 100,
      latestLoss: null,
      logLines: 3,
    });
    expect(updateRunProgress(t.db, 'missing', { progressIteration: 1 })).toBe(false);
  });

  it('flags active runs for cancellation once and ignores final ones', () => {
    const a = insertRun(t.db, newRun(1));
    const b = insertRun(t.db, newRun(2));
    transitionRun(t.db, b.id, 'queued', 'failed');
    expect(requestCancel(t.db, a.id, 111)).toBe(true);
    expect(requestCancel(t.db, a.id, 222)).toBe(true);
    expect(getRun(t.db, a.id)?.cancelRequestedAt).toBe(111);
    expect(requestCancel(t.db, b.id, 333)).toBe(false);
    expect(getRun(t.db, b.id)?.cancelRequestedAt).toBeNull();
  });

  it('deletes a queued run that never started, with its tags and events, and nothing else', () => {
    const a = insertRun(t.db, newRun(1, { tags: ['x'] }));
    const b = insertRun(t.db, newRun(2));
    transitionRun(t.db, b.id, 'queued', 'running');
    expect(deleteRun(t.db, a.id)).toBe(true);
    expect(getRun(t.db, a.id)).toBeUndefined();
    expect(t.db.$client.prepare('SELECT count(*) FROM run_tags').pluck().get()).toBe(0);
    expect(listRunEvents(t.db, a.id)).toEqual([]);
    expect(deleteRun(t.db, b.id)).toBe(false);
    expect(getRun(t.db, b.id)?.status).toBe('running');
  });

  it('counts runs in any of the given statuses', () => {
    insertRuns(t.db, [newRun(1), newRun(2), newRun(3)]);
    transitionRun(t.db, 'run_00001', 'queued', 'running');
    expect(countRunsByStatus(t.db, ['queued'])).toBe(2);
    expect(countRunsByStatus(t.db, ['queued', 'running'])).toBe(3);
    expect(countRunsByStatus(t.db, ['failed'])).toBe(0);
    expect(countRunsByStatus(t.db, [])).toBe(0);
  });
});

describe('attempts', () => {
  it('starts, finishes and lists attempts; refuses to start or finish one twice', () => {
    const run = insertRun(t.db, newRun(1));
    const running = transitionRun(t.db, run.id, 'queued', 'running');
    const a1 = startAttempt(t.db, { runId: run.id, attempt: running.attempt, worker: 'w1', startedAt: 10 });
    expect(a1).toMatchObject({
      runId: run.id,
      attempt: 1,
      worker: 'w1',
      startedAt: 10,
      finishedAt: null,
      outcome: null,
    });
    expect(() => startAttempt(t.db, { runId: run.id, attempt: 1, worker: 'w2' })).toThrow(ConflictError);
    const f1 = finishAttempt(t.db, run.id, 1, { outcome: 'interrupted', finishedAt: 20, signal: 'SIGTERM' });
    expect(f1).toMatchObject({ outcome: 'interrupted', finishedAt: 20, signal: 'SIGTERM', exitCode: null });
    expect(() => finishAttempt(t.db, run.id, 1, { outcome: 'failed' })).toThrow(ConflictError);
    startAttempt(t.db, {
      runId: run.id,
      attempt: 2,
      worker: 'w1',
      resumedFrom: '0000100_adapters.safetensors',
      startIteration: 100,
    });
    expect(
      listAttempts(t.db, run.id).map((a) => [a.attempt, a.outcome, a.resumedFrom, a.startIteration]),
    ).toEqual([
      [1, 'interrupted', null, null],
      [2, null, '0000100_adapters.safetensors', 100],
    ]);
  });
});

describe('listRuns', () => {
  const STATUSES: RunStatus[] = ['queued', 'running', 'succeeded', 'failed'];
  const METHODS: Method[] = ['sft', 'grpo', 'gspo'];

  /** 250 runs; created_at repeats (groups of 4 share a millisecond) so the id tie-break matters. */
  function seed(): Run[] {
    const inputs = Array.from({ length: 250 }, (_, i) =>
      newRun(i, {
        id: `r${String((i * 7919) % 1000).padStart(3, '0')}-${i}`,
        method: METHODS[i % 3] ?? 'sft',
        model: i % 5 === 0 ? 'model-a' : 'model-b',
        tags: i % 4 === 0 ? ['blue', 'x'] : ['red'],
        createdAt: 1_700_000_000_000 + Math.floor(i / 4),
      }),
    );
    insertRuns(t.db, inputs);
    // Statuses through real transitions, as the service would set them.
    inputs.forEach((r, i) => {
      const target = STATUSES[i % 4] ?? 'queued';
      if (target === 'queued') return;
      transitionRun(t.db, r.id, 'queued', 'running');
      if (target !== 'running') transitionRun(t.db, r.id, 'running', target);
    });
    return inputs.map((r) => getRun(t.db, r.id)!);
  }

  const newestFirst = (a: Run, b: Run) =>
    b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

  function pageThrough(filter: Omit<ListRunsFilter, 'cursor'>): Run[] {
    const seen: Run[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 1000; pages++) {
      const page = listRuns(t.db, { ...filter, cursor });
      expect(page.items.length).toBeLessThanOrEqual(filter.limit);
      seen.push(...page.items);
      if (page.nextCursor === null) return seen;
      cursor = page.nextCursor;
    }
    throw new Error('pagination did not end');
  }

  const cases: { name: string; filter: Omit<ListRunsFilter, 'limit'>; keep: (r: Run) => boolean }[] = [
    { name: 'no filter', filter: {}, keep: () => true },
    { name: 'status', filter: { status: 'succeeded' }, keep: (r) => r.status === 'succeeded' },
    {
      name: 'several statuses',
      filter: { status: ['queued', 'running'] },
      keep: (r) => r.status === 'queued' || r.status === 'running',
    },
    { name: 'method', filter: { method: 'grpo' }, keep: (r) => r.method === 'grpo' },
    { name: 'model', filter: { model: 'model-a' }, keep: (r) => r.model === 'model-a' },
    { name: 'tag', filter: { tag: 'blue' }, keep: (r) => r.tags.includes('blue') },
    {
      name: 'status + method + tag',
      filter: { status: 'queued', method: 'sft', tag: 'blue' },
      keep: (r) => r.status === 'queued' && r.method === 'sft' && r.tags.includes('blue'),
    },
    {
      name: 'created range',
      filter: { createdFrom: 1_700_000_000_010, createdTo: 1_700_000_000_040 },
      keep: (r) => r.createdAt >= 1_700_000_000_010 && r.createdAt < 1_700_000_000_040,
    },
  ];

  it.each(cases)('returns every matching run exactly once, newest first ($name)', ({ filter, keep }) => {
    const all = seed();
    const expected = all
      .filter(keep)
      .sort(newestFirst)
      .map((r) => r.id);
    expect(expected.length).toBeGreaterThan(0);
    for (const limit of [1, 7, 50, 300]) {
      const got = pageThrough({ ...filter, limit }).map((r) => r.id);
      expect(new Set(got).size).toBe(got.length);
      expect(got).toEqual(expected);
    }
  });

  it('filters by tag through run_tags, matching any tag of a run', () => {
    seed();
    const x = pageThrough({ tag: 'x', limit: 100 });
    const blue = pageThrough({ tag: 'blue', limit: 100 });
    expect(x.map((r) => r.id)).toEqual(blue.map((r) => r.id));
    expect(x).toHaveLength(63);
    expect(pageThrough({ tag: 'green', limit: 10 })).toEqual([]);
  });

  it('lists a sweep by sweep_id', () => {
    t.db.$client
      .prepare(
        "INSERT INTO sweeps (id, spec, status, run_count, created_at, updated_at) VALUES ('sw1', '{}', 'active', 2, 0, 0)",
      )
      .run();
    insertRuns(t.db, [
      newRun(1, { sweepId: 'sw1', sweepIndex: 0 }),
      newRun(2, { sweepId: 'sw1', sweepIndex: 1 }),
      newRun(3),
    ]);
    expect(listRuns(t.db, { sweepId: 'sw1', limit: 10 }).items.map((r) => r.sweepIndex)).toEqual([1, 0]);
  });

  it('rejects a malformed cursor and a bad limit with RequestValidationError', () => {
    expect(() => listRuns(t.db, { limit: 10, cursor: 'not-a-cursor' })).toThrow(RequestValidationError);
    expect(() => listRuns(t.db, { limit: 10, cursor: Buffer.from('["x",1]').toString('base64url') })).toThrow(
      RequestValidationError,
    );
    expect(() => listRuns(t.db, { limit: 0 })).toThrow(RequestValidationError);
  });

  function plan(filter: ListRunsFilter): string {
    const q = listRunsQuery(t.db, filter).toSQL();
    const rows = t.db.$client.prepare(`EXPLAIN QUERY PLAN ${q.sql}`).all(...q.params) as { detail: string }[];
    return rows.map((r) => r.detail).join(' | ');
  }

  const cursor = Buffer.from(JSON.stringify([1_700_000_000_100, 'r500-1'])).toString('base64url');
  const planCases: { filter: Omit<ListRunsFilter, 'limit'>; uses: string; sorted: boolean }[] = [
    { filter: {}, uses: 'runs_created_idx', sorted: false },
    { filter: { cursor }, uses: 'runs_created_idx ((created_at,id)<(?,?))', sorted: false },
    {
      filter: { createdFrom: 1, createdTo: 2 },
      uses: 'runs_created_idx (created_at>? AND created_at<?)',
      sorted: false,
    },
    { filter: { status: 'queued' }, uses: 'runs_status_created_idx (status=?)', sorted: false },
    {
      filter: { status: 'queued', cursor },
      uses: 'runs_status_created_idx (status=? AND (created_at,id)<(?,?))',
      sorted: false,
    },
    { filter: { method: 'sft' }, uses: 'runs_method_created_idx (method=?)', sorted: false },
    { filter: { model: 'm' }, uses: 'runs_model_created_idx (model=?)', sorted: false },
    { filter: { sweepId: 's' }, uses: 'runs_sweep_idx (sweep_id=?)', sorted: true },
    {
      filter: { tag: 't' },
      uses: 'run_tags USING COVERING INDEX sqlite_autoindex_run_tags_1 (tag=?)',
      sorted: true,
    },
  ];

  it.each(planCases)('reads $uses for $filter', ({ filter, uses, sorted }) => {
    for (const analyzed of [false, true]) {
      if (analyzed) {
        seed();
        t.db.$client.exec('ANALYZE');
      }
      const detail = plan({ ...filter, limit: 20 });
      expect(detail).toContain(uses);
      expect(detail).not.toMatch(/SCAN runs(?! USING)/);
      if (!sorted) expect(detail).not.toContain('TEMP B-TREE');
    }
  });
});
