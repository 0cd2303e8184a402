// The runs table's own writes against a real migrated SQLite file: progress fields, cancel requests, deleting a
// run that never started, and counts by status.
import { describe, expect, it } from 'vitest';

import {
  countRunsByStatus,
  deleteRun,
  getRun,
  insertRun,
  insertRuns,
  listRunEvents,
  requestCancel,
  transitionRun,
  updateRunProgress,
} from '../../src/db/runs-repository.js';
import { newRun } from '../helpers/numbered-run.js';
import { useTempDb } from '../helpers/use-temp-db.js';

const t = useTempDb();

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
