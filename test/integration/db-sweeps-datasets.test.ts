// Sweeps and datasets repositories against a real migrated SQLite file.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  countActiveRunsUsingDataset,
  deleteDataset,
  getDataset,
  insertDataset,
  listDatasets,
} from '../../src/db/datasets-repository.js';
import { insertRun, insertRuns, listRuns, transitionRun } from '../../src/db/runs-repository.js';
import { getSweep, insertSweep, listSweeps, updateSweepStatus } from '../../src/db/sweeps-repository.js';
import { withTransaction } from '../../src/db/transaction.js';
import { ConflictError, NotFoundError } from '../../src/domain/errors.js';
import { createTempDb, minimalNewRun, type TempDb } from '../helpers/temp-db.js';

let t: TempDb;
beforeEach(() => {
  t = createTempDb();
});
afterEach(() => {
  t.cleanup();
});

describe('sweeps', () => {
  it('creates a sweep and its runs in one transaction and reads it back', () => {
    withTransaction(t.db, () => {
      insertSweep(t.db, {
        id: 'sw1',
        name: 'lr grid',
        spec: { grid: { learning_rate: [1e-5, 2e-5] } },
        metricName: 'loss',
        metricGoal: 'min',
        runCount: 2,
      });
      insertRuns(t.db, [
        minimalNewRun('a', { sweepId: 'sw1', sweepIndex: 0, sweepValues: { learning_rate: 1e-5 } }),
        minimalNewRun('b', { sweepId: 'sw1', sweepIndex: 1, sweepValues: { learning_rate: 2e-5 } }),
      ]);
    });
    expect(getSweep(t.db, 'sw1')).toMatchObject({
      id: 'sw1',
      name: 'lr grid',
      spec: { grid: { learning_rate: [1e-5, 2e-5] } },
      metricName: 'loss',
      metricGoal: 'min',
      status: 'active',
      runCount: 2,
    });
    expect(listRuns(t.db, { sweepId: 'sw1', limit: 10 }).items.map((r) => r.sweepValues)).toEqual([
      { learning_rate: 2e-5 },
      { learning_rate: 1e-5 },
    ]);
    expect(getSweep(t.db, 'nope')).toBeUndefined();
  });

  it('rolls the sweep back when one of its runs cannot be inserted', () => {
    insertRun(t.db, minimalNewRun('taken'));
    expect(() =>
      withTransaction(t.db, () => {
        insertSweep(t.db, { id: 'sw1', spec: {}, runCount: 2 });
        insertRuns(t.db, [
          minimalNewRun('fresh', { sweepId: 'sw1' }),
          minimalNewRun('taken', { sweepId: 'sw1' }),
        ]);
      }),
    ).toThrow(ConflictError);
    expect(getSweep(t.db, 'sw1')).toBeUndefined();
  });

  it('refuses a run that names a sweep that does not exist', () => {
    expect(() => insertRun(t.db, minimalNewRun('a', { sweepId: 'ghost' }))).toThrow(/FOREIGN KEY/);
  });

  it('changes status by compare-and-set', () => {
    insertSweep(t.db, { id: 'sw1', spec: {}, runCount: 0 });
    expect(updateSweepStatus(t.db, 'sw1', 'active', 'cancelled').status).toBe('cancelled');
    expect(() => updateSweepStatus(t.db, 'sw1', 'active', 'done')).toThrow(ConflictError);
    expect(() => updateSweepStatus(t.db, 'ghost', 'active', 'done')).toThrow(NotFoundError);
    expect(updateSweepStatus(t.db, 'sw1', ['active', 'cancelled'], 'done').status).toBe('done');
  });

  it('lists sweeps newest first, page by page, with a status filter', () => {
    for (let i = 0; i < 25; i++)
      insertSweep(t.db, {
        id: `sw${String(i).padStart(2, '0')}`,
        spec: {},
        runCount: 0,
        createdAt: 1000 + Math.floor(i / 2),
      });
    updateSweepStatus(t.db, 'sw03', 'active', 'done');
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = listSweeps(t.db, { limit: 4, cursor });
      ids.push(...page.items.map((s) => s.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    const expected = Array.from({ length: 25 }, (_, i) => `sw${String(i).padStart(2, '0')}`).reverse();
    expect(ids).toEqual(expected);
    expect(listSweeps(t.db, { status: 'done', limit: 10 }).items.map((s) => s.id)).toEqual(['sw03']);
  });
});

describe('datasets', () => {
  const ds = {
    sha256: 'a'.repeat(64),
    name: 'chat',
    files: ['train.jsonl', 'valid.jsonl'],
    bytes: 1234,
    rows: { 'train.jsonl': 90, 'valid.jsonl': 10 },
  };

  it('records an upload once; the same content again returns the first row', () => {
    const first = insertDataset(t.db, { ...ds, createdAt: 1 });
    const again = insertDataset(t.db, { ...ds, name: 'renamed', createdAt: 2 });
    expect(again).toEqual(first);
    expect(getDataset(t.db, ds.sha256)).toEqual({ ...ds, createdAt: 1 });
    expect(listDatasets(t.db)).toHaveLength(1);
    expect(getDataset(t.db, 'b'.repeat(64))).toBeUndefined();
  });

  it('lists newest first', () => {
    insertDataset(t.db, { ...ds, createdAt: 1 });
    insertDataset(t.db, { ...ds, sha256: 'b'.repeat(64), createdAt: 2 });
    expect(listDatasets(t.db).map((d) => d.sha256[0])).toEqual(['b', 'a']);
  });

  it('counts only active runs and refuses to delete a dataset they use', () => {
    insertDataset(t.db, ds);
    insertRun(t.db, minimalNewRun('q', { datasetSha: ds.sha256 }));
    insertRun(t.db, minimalNewRun('done', { datasetSha: ds.sha256 }));
    transitionRun(t.db, 'done', 'queued', 'cancelled');
    expect(countActiveRunsUsingDataset(t.db, ds.sha256)).toBe(1);
    expect(() => deleteDataset(t.db, ds.sha256)).toThrow(ConflictError);
    transitionRun(t.db, 'q', 'queued', 'running');
    transitionRun(t.db, 'q', 'running', 'interrupted');
    expect(countActiveRunsUsingDataset(t.db, ds.sha256)).toBe(1);
    transitionRun(t.db, 'q', 'interrupted', 'failed');
    expect(countActiveRunsUsingDataset(t.db, ds.sha256)).toBe(0);
    expect(deleteDataset(t.db, ds.sha256)).toBe(true);
    expect(deleteDataset(t.db, ds.sha256)).toBe(false);
  });
});
