// "The newest attempt wins" in the metrics reads: a resumed attempt's values replace the earlier attempt's for the
// iterations both reported, in the per-iteration series (median stopping) as in the latest and final values.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  finalAndBestMetric,
  insertMetrics,
  latestMetrics,
  newestAttemptSeries,
} from '../../src/db/metrics-repository.js';
import { insertRuns } from '../../src/db/runs-repository.js';
import { createTempDb, minimalNewRun, type TempDb } from '../helpers/temp-db.js';

let t: TempDb;
beforeEach(() => {
  t = createTempDb();
  insertRuns(t.db, [minimalNewRun('r1')]);
  // Attempt 1 reached iteration 30; attempt 2 resumed from the checkpoint at 20 and stopped at 25.
  const loss = (iteration: number, value: number | null) => ({
    iteration,
    split: 'val' as const,
    name: 'loss',
    value,
  });
  insertMetrics(t.db, 'r1', 1, [loss(10, 3), loss(20, 2), loss(30, 1)]);
  insertMetrics(t.db, 'r1', 2, [loss(20, 2.5), loss(25, null)]);
  insertMetrics(t.db, 'r1', 1, [{ iteration: 10, split: 'train', name: 'loss', value: 4 }]);
});
afterEach(() => {
  t.cleanup();
});

describe('newest attempt wins', () => {
  it('gives one value per iteration, the newest attempt’s where two reported it, in iteration order', () => {
    expect(newestAttemptSeries(t.db, 'r1', 'loss', 'val')).toEqual([
      { iteration: 10, value: 3 },
      { iteration: 20, value: 2.5 },
      { iteration: 25, value: null },
      { iteration: 30, value: 1 },
    ]);
    expect(newestAttemptSeries(t.db, 'r1', 'loss', 'test')).toEqual([]);
  });

  it('takes the latest and final points from the newest attempt, even below an older attempt’s iterations', () => {
    const latest = latestMetrics(t.db, 'r1').find((m) => m.split === 'val');
    expect(latest).toMatchObject({ iteration: 25, attempt: 2, value: null });
    const [row] = finalAndBestMetric(t.db, ['r1'], 'loss', 'val', 'min');
    expect(row?.final).toEqual({ iteration: 25, attempt: 2, value: null });
    expect(row?.best).toEqual({ iteration: 30, attempt: 1, value: 1 });
  });
});
