// Metrics and log lines against a real migrated SQLite file: NaN/Infinity handling, replacement, latest and
// best values, key-ordered reads (query plans), a 100k-point timing bound, log paging, replay and trimming.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { appendLogLines, deleteLogRange, getLogLines, maxLogSeq } from '../../src/db/logs-repository.js';
import {
  FINAL_AND_BEST_SQL,
  finalAndBestMetric,
  getMetrics,
  getMetricsQuery,
  insertMetrics,
  LATEST_METRICS_SQL,
  latestMetrics,
  type MetricsQuery,
} from '../../src/db/metrics-repository.js';
import { insertRuns } from '../../src/db/runs-repository.js';
import type { LogLine, MetricPoint } from '../../src/domain/run.js';
import { trainMetricPoints } from '../helpers/metric-points.js';
import { createTempDb, minimalNewRun, type TempDb } from '../helpers/temp-db.js';

let t: TempDb;
beforeEach(() => {
  t = createTempDb();
  insertRuns(
    t.db,
    ['r1', 'r2', 'r3', 'r4'].map((id) => minimalNewRun(id)),
  );
});
afterEach(() => {
  t.cleanup();
});

const raw = <T>(sql: string, ...params: unknown[]) => t.db.$client.prepare(sql).all(...params) as T[];

describe('insertMetrics / getMetrics', () => {
  it('stores NaN as NULL and keeps ±Infinity as REAL', () => {
    insertMetrics(t.db, 'r1', 1, [
      { iteration: 1, split: 'train', name: 'loss', value: NaN },
      { iteration: 2, split: 'train', name: 'loss', value: Infinity },
      { iteration: 3, split: 'train', name: 'loss', value: -Infinity },
      { iteration: 4, split: 'train', name: 'loss', value: 0.5 },
    ]);
    const stored = raw<{ iteration: number; t: string; value: number | null }>(
      "SELECT iteration, typeof(value) AS t, value FROM metrics WHERE run_id = 'r1' ORDER BY iteration",
    );
    expect(stored).toEqual([
      { iteration: 1, t: 'null', value: null },
      { iteration: 2, t: 'real', value: Infinity },
      { iteration: 3, t: 'real', value: -Infinity },
      { iteration: 4, t: 'real', value: 0.5 },
    ]);
    expect(getMetrics(t.db, 'r1').map((m) => m.value)).toEqual([null, Infinity, -Infinity, 0.5]);
  });

  it('replaces a point reported again for the same key, and keeps attempts apart', () => {
    insertMetrics(t.db, 'r1', 1, [{ iteration: 10, split: 'val', name: 'loss', value: 2 }]);
    insertMetrics(t.db, 'r1', 1, [{ iteration: 10, split: 'val', name: 'loss', value: 1.5 }]);
    insertMetrics(t.db, 'r1', 2, [{ iteration: 10, split: 'val', name: 'loss', value: 1.4 }]);
    expect(getMetrics(t.db, 'r1')).toEqual([
      { runId: 'r1', iteration: 10, split: 'val', name: 'loss', value: 1.5, attempt: 1 },
      { runId: 'r1', iteration: 10, split: 'val', name: 'loss', value: 1.4, attempt: 2 },
    ]);
  });

  it('filters by name, split and first iteration, in key order, and only for the asked run', () => {
    const points: MetricPoint[] = [];
    for (let it = 1; it <= 5; it++) {
      points.push({ iteration: it, split: 'train', name: 'loss', value: 5 - it });
      points.push({ iteration: it, split: 'train', name: 'learning_rate', value: 1e-5 });
      if (it % 2 === 1) points.push({ iteration: it, split: 'val', name: 'loss', value: 6 - it });
    }
    insertMetrics(t.db, 'r1', 1, points);
    insertMetrics(t.db, 'r2', 1, points);
    expect(getMetrics(t.db, 'r1')).toHaveLength(13);
    const trainLoss = getMetrics(t.db, 'r1', { name: 'loss', split: 'train', sinceIteration: 3 });
    expect(trainLoss.map((m) => [m.iteration, m.value])).toEqual([
      [3, 2],
      [4, 1],
      [5, 0],
    ]);
    expect(getMetrics(t.db, 'r1', { split: 'val' }).map((m) => m.iteration)).toEqual([1, 3, 5]);
    expect(getMetrics(t.db, 'r1', { name: 'loss' }).map((m) => m.split)).toEqual([
      'train',
      'train',
      'train',
      'train',
      'train',
      'val',
      'val',
      'val',
    ]);
    expect(getMetrics(t.db, 'r3')).toEqual([]);
  });

  it('rejects points for a run that does not exist (foreign key)', () => {
    expect(() =>
      insertMetrics(t.db, 'ghost', 0, [{ iteration: 1, split: 'train', name: 'loss', value: 1 }]),
    ).toThrow(/FOREIGN KEY/);
  });

  it('reads one run from the primary key of the WITHOUT ROWID table, without sorting', () => {
    const ddl = raw<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'metrics'")[0]?.sql ?? '';
    expect(ddl).toMatch(/WITHOUT ROWID\s*$/);
    const plan = (sql: string, params: unknown[]) =>
      raw<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, ...params)
        .map((r) => r.detail)
        .join(' | ');
    const planOf = (query: MetricsQuery) => {
      const q = getMetricsQuery(t.db, 'r1', query).toSQL();
      return plan(q.sql, q.params);
    };
    expect(planOf({})).toBe('SEARCH metrics USING PRIMARY KEY (run_id=?)');
    expect(planOf({ name: 'loss' })).toBe('SEARCH metrics USING PRIMARY KEY (run_id=? AND name=?)');
    expect(planOf({ name: 'loss', split: 'train', sinceIteration: 3 })).toBe(
      'SEARCH metrics USING PRIMARY KEY (run_id=? AND name=? AND split=? AND iteration>?)',
    );
    expect(plan(LATEST_METRICS_SQL, ['r1'])).toContain('SEARCH metrics USING PRIMARY KEY (run_id=?)');
    expect(plan(FINAL_AND_BEST_SQL, [1, '["r1"]', 'loss', 'val'])).toContain(
      'SEARCH metrics USING PRIMARY KEY (run_id=? AND name=? AND split=?)',
    );
  });

  // How fast: bench/figures/repository.ts.
  it('writes 100,000 points in one call and reads them back: all, one series, the latest of each name', () => {
    const points = trainMetricPoints(10_000);
    expect(insertMetrics(t.db, 'r1', 1, points)).toBe(100_000);
    insertMetrics(t.db, 'r2', 1, points.slice(0, 20_000));

    const all = getMetrics(t.db, 'r1');
    const loss = getMetrics(t.db, 'r1', { name: 'loss', split: 'train' });
    const latest = latestMetrics(t.db, 'r1');

    expect(all).toHaveLength(100_000);
    expect(loss).toHaveLength(10_000);
    expect(latest).toHaveLength(10);
    expect(latest.every((m) => m.iteration === 10_000)).toBe(true);
  });
});

describe('latestMetrics and finalAndBestMetric', () => {
  it('takes the newest attempt first, then the highest iteration, per (split, name)', () => {
    insertMetrics(t.db, 'r1', 1, [
      { iteration: 100, split: 'train', name: 'loss', value: 1.0 },
      { iteration: 150, split: 'train', name: 'loss', value: 0.9 },
      { iteration: 100, split: 'val', name: 'loss', value: 1.2 },
    ]);
    // Attempt 2 resumed from the checkpoint at 100, so its iterations are lower than attempt 1's last.
    insertMetrics(t.db, 'r1', 2, [
      { iteration: 110, split: 'train', name: 'loss', value: 0.95 },
      { iteration: 120, split: 'train', name: 'loss', value: NaN },
    ]);
    expect(latestMetrics(t.db, 'r1')).toEqual([
      { runId: 'r1', split: 'train', name: 'loss', iteration: 120, attempt: 2, value: null },
      { runId: 'r1', split: 'val', name: 'loss', iteration: 100, attempt: 1, value: 1.2 },
    ]);
    expect(latestMetrics(t.db, 'r2')).toEqual([]);
  });

  it('reports the final and the best finite value per run, in input order, for min and max goals', () => {
    insertMetrics(t.db, 'r1', 1, [
      { iteration: 10, split: 'val', name: 'loss', value: 2 },
      { iteration: 20, split: 'val', name: 'loss', value: 1 },
      { iteration: 30, split: 'val', name: 'loss', value: 1 },
      { iteration: 40, split: 'val', name: 'loss', value: 1.5 },
      { iteration: 40, split: 'train', name: 'loss', value: 0.1 },
    ]);
    insertMetrics(t.db, 'r2', 1, [
      { iteration: 10, split: 'val', name: 'loss', value: -Infinity },
      { iteration: 20, split: 'val', name: 'loss', value: 3 },
      { iteration: 30, split: 'val', name: 'loss', value: NaN },
    ]);
    insertMetrics(t.db, 'r3', 1, [{ iteration: 10, split: 'val', name: 'loss', value: NaN }]);

    const min = finalAndBestMetric(t.db, ['r3', 'r1', 'r2', 'r4'], 'loss', 'val', 'min');
    expect(min).toEqual([
      { runId: 'r3', final: { iteration: 10, attempt: 1, value: null }, best: null },
      {
        runId: 'r1',
        final: { iteration: 40, attempt: 1, value: 1.5 },
        best: { iteration: 20, attempt: 1, value: 1 },
      },
      {
        runId: 'r2',
        final: { iteration: 30, attempt: 1, value: null },
        best: { iteration: 20, attempt: 1, value: 3 },
      },
      { runId: 'r4', final: null, best: null },
    ]);
    const max = finalAndBestMetric(t.db, ['r1', 'r2'], 'loss', 'val', 'max');
    expect(max.map((r) => r.best)).toEqual([
      { iteration: 10, attempt: 1, value: 2 },
      { iteration: 20, attempt: 1, value: 3 },
    ]);
    expect(finalAndBestMetric(t.db, [], 'loss', 'val', 'min')).toEqual([]);
  });
});

describe('log lines', () => {
  const line = (seq: number, text = `line ${seq}`): LogLine => ({
    seq,
    stream: seq % 2 ? 'stdout' : 'stderr',
    text,
    at: 1000 + seq,
  });

  it('starts at seq 0, appends in order and pages with afterSeq and limit', () => {
    expect(maxLogSeq(t.db, 'r1')).toBe(0);
    expect(
      appendLogLines(
        t.db,
        'r1',
        Array.from({ length: 25 }, (_, i) => line(i + 1)),
      ),
    ).toBe(25);
    appendLogLines(t.db, 'r2', [line(1, 'other run')]);
    expect(maxLogSeq(t.db, 'r1')).toBe(25);
    expect(getLogLines(t.db, 'r1')).toHaveLength(25);
    expect(getLogLines(t.db, 'r1', { afterSeq: 20 }).map((l) => l.seq)).toEqual([21, 22, 23, 24, 25]);
    expect(getLogLines(t.db, 'r1', { afterSeq: 5, limit: 3 })).toEqual([line(6), line(7), line(8)]);
    expect(getLogLines(t.db, 'r1', { afterSeq: 25 })).toEqual([]);
  });

  it('ignores lines replayed with a seq already stored', () => {
    appendLogLines(t.db, 'r1', [line(1), line(2)]);
    expect(appendLogLines(t.db, 'r1', [line(2, 'replayed'), line(3)])).toBe(1);
    expect(getLogLines(t.db, 'r1').map((l) => l.text)).toEqual(['line 1', 'line 2', 'line 3']);
  });

  it('appends a batch atomically: a bad line rolls back the whole batch', () => {
    const bad = { ...line(3), text: null } as unknown as LogLine;
    expect(() => appendLogLines(t.db, 'r1', [line(1), line(2), bad])).toThrow();
    expect(maxLogSeq(t.db, 'r1')).toBe(0);
  });

  it('deletes the lines strictly between two seqs (the middle of a capped log)', () => {
    appendLogLines(
      t.db,
      'r1',
      Array.from({ length: 10 }, (_, i) => line(i + 1)),
    );
    expect(deleteLogRange(t.db, 'r1', 3, 8)).toBe(4);
    expect(getLogLines(t.db, 'r1').map((l) => l.seq)).toEqual([1, 2, 3, 8, 9, 10]);
    expect(deleteLogRange(t.db, 'r1', 3, 4)).toBe(0);
    expect(maxLogSeq(t.db, 'r1')).toBe(10);
  });
});
