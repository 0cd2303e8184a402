// Listing runs against a real migrated SQLite file: keyset pagination with every filter, tags through run_tags,
// sweeps, rejected cursors and limits, and the query plans behind each filter.
import { describe, expect, it } from 'vitest';

import { type ListRunsFilter, listRunsQuery } from '../../src/db/runs-list.js';
import { getRun, insertRuns, listRuns, transitionRun } from '../../src/db/runs-repository.js';
import { RequestValidationError } from '../../src/domain/errors.js';
import type { Method } from '../../src/domain/methods.js';
import type { Run } from '../../src/domain/run.js';
import type { RunStatus } from '../../src/domain/run-status.js';
import { newRun } from '../helpers/numbered-run.js';
import { useTempDb } from '../helpers/use-temp-db.js';

const t = useTempDb();

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
