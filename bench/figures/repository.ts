// Figures: the SQLite repositories in this process, as the tests once asserted them: 100,000 metric points written
// in one call and read back (all, one series, the latest per name), and 1,000 runs inserted in one transaction.
// Each is reported against the bound the unit of work must stay under (about 10x what a 2-core machine needs:
// a lost index or per-row commits would cross it).
import path from 'node:path';

import { closeDb, openDb } from '../../src/db/client.js';
import { getMetrics, insertMetrics, latestMetrics } from '../../src/db/metrics-repository.js';
import { migrate } from '../../src/db/migrate.js';
import { insertRuns } from '../../src/db/runs-repository.js';
import { newRunRow } from '../../src/domain/new-run.js';
import type { NewRun } from '../../src/domain/run.js';
import { trainMetricPoints } from '../../test/helpers/metric-points.js';
import { type BenchContext, subdir } from '../lib/context.js';
import { atMost, type Figure, makeFigure } from '../lib/figure.js';
import { nowMs } from '../lib/stats.js';

function newRun(id: string): NewRun {
  const request = {
    method: 'sft' as const,
    model: 'm',
    data: 'd',
    tags: ['sweep-x'],
    priority: 0,
    fuse: false,
  };
  return newRunRow({
    id,
    request,
    warnings: [],
    runDir: id,
    command: { argv: [], configYaml: '', adapterPath: id },
  });
}

const time = (fn: () => unknown): number => {
  const t0 = nowMs();
  fn();
  return nowMs() - t0;
};

export async function repository(ctx: BenchContext): Promise<Figure[]> {
  const reps = ctx.quick ? 2 : 5;
  const points = trainMetricPoints(10_000);
  const ms = {
    insert: [] as number[],
    all: [] as number[],
    one: [] as number[],
    latest: [] as number[],
    runs: [] as number[],
  };
  for (let r = 0; r < reps; r++) {
    const dir = subdir(ctx, 'repository');
    const db = openDb(path.join(dir, 'bench.sqlite'));
    try {
      migrate(db);
      insertRuns(db, [newRun('r1'), newRun('r2')]);
      ms.insert.push(time(() => insertMetrics(db, 'r1', 1, points)));
      insertMetrics(db, 'r2', 1, points.slice(0, 20_000));
      ms.all.push(time(() => getMetrics(db, 'r1')));
      ms.one.push(time(() => getMetrics(db, 'r1', { name: 'loss', split: 'train' })));
      ms.latest.push(time(() => latestMetrics(db, 'r1')));
      const runs = Array.from({ length: 1000 }, (_, i) => newRun(`run_${i}`));
      ms.runs.push(time(() => insertRuns(db, runs)));
    } finally {
      closeDb(db);
    }
    ctx.log(
      `repository rep ${r + 1}/${reps}: insert ${ms.insert.at(-1)!.toFixed(0)} ms, read all ${ms.all.at(-1)!.toFixed(0)} ms, 1,000 runs ${ms.runs.at(-1)!.toFixed(0)} ms`,
    );
  }
  const figure = (name: string, values: number[], limit: number, note: string) =>
    makeFigure(
      { name, section: 'Repositories', unit: 'ms', goal: `<= ${limit} ms`, pass: atMost(limit), note },
      values,
    );
  return [
    figure(
      'metrics insert of 100,000 points',
      ms.insert,
      10_000,
      'insertMetrics: one call, 10 names x 10,000 iterations',
    ),
    figure('metrics read of 100,000 points', ms.all, 2_000, 'getMetrics of one run, every point'),
    figure(
      'metrics read of one series',
      ms.one,
      200,
      'getMetrics name=loss split=train: 10,000 of 100,000 points',
    ),
    figure('latest metrics of a run', ms.latest, 500, 'latestMetrics: the newest point of each of 10 names'),
    figure(
      'insert of 1,000 runs',
      ms.runs,
      5_000,
      'insertRuns: rows, tags and first events in one transaction',
    ),
  ];
}
