// Figure: a 1,000-run sweep submitted (every combination validated, 1,000 rows in one transaction, one addBulk)
// against raw addBulk of 1,000 jobs + 1,000 raw INSERTs in one transaction. Measured through POST /v1/sweeps on
// the API process when the route exists; without it, through the same building blocks in this process
// (prepareRun per combination, run folders, insertRuns in one transaction, queue.addBulk), and the note says so.
import { randomUUID } from 'node:crypto';
import path from 'node:path';

import { Queue } from 'bullmq';

import { newRunRow, prepareRun } from '../../src/app/submit-run.js';
import { createDatasetValidator } from '../../src/datasets/validate-dataset.js';
import { closeDb, dbFilePath, openDb } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { insertRuns } from '../../src/db/runs-repository.js';
import { createDataResolver } from '../../src/inputs/resolve-data.js';
import { loadConfig } from '../../src/shared/config.js';
import { trainJob } from '../../src/shared/job-kinds.js';
import { addJobs, createRedis, createRunsQueue, workerRedisOptions } from '../../src/shared/queue.js';
import { type BenchContext, prefix, subdir } from '../lib/context.js';
import { atMostRatio, type Figure, makeFigure } from '../lib/figure.js';
import { HttpClient } from '../lib/http-client.js';
import { deployment, type ProjectDeployment, startProjectApi } from '../lib/project.js';
import { openRawDb } from '../lib/raw-db.js';
import { sftRequest } from '../lib/requests.js';
import { nowMs } from '../lib/stats.js';

const RUNS = 1000;
const LEARNING_RATES = [1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3];
const SEEDS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const ITERS = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000];

function sweepBody(dataset: string, rep: number) {
  return {
    name: `bench-sweep-${rep}`,
    base: sftRequest(dataset),
    grid: { learning_rate: LEARNING_RATES, seed: SEEDS, iters: ITERS },
    metric: { name: 'loss', goal: 'min' },
  };
}

/** The building blocks of a sweep, in this process, when POST /v1/sweeps is not there yet. */
async function buildingBlocks(ctx: BenchContext, d: ProjectDeployment, rep: number): Promise<number> {
  const config = loadConfig({ ...d.env, LOG_LEVEL: 'silent' });
  const db = openDb(dbFilePath(d.dataDir));
  migrate(db);
  const redis = createRedis(ctx.redisUrl, workerRedisOptions());
  const queue = createRunsQueue(redis, d.prefix);
  const inputs = { validator: createDatasetValidator(), resolveData: createDataResolver(d.dataDir) };
  try {
    await prepareRun(sftRequest(d.dataset), { config, inputs }); // the dataset check, cached from here on
    const t0 = nowMs();
    const prepared = [];
    for (const lr of LEARNING_RATES)
      for (const seed of SEEDS)
        for (const iters of ITERS)
          prepared.push(
            await prepareRun(
              { ...sftRequest(d.dataset, rep), learning_rate: lr, seed, iters },
              { config, inputs },
            ),
          );
    insertRuns(
      db,
      prepared.map((p, i) => newRunRow(p, { sweepIndex: i })),
    );
    await addJobs(
      queue,
      prepared.map((p) => trainJob(p.id, 1, { priority: p.request.priority })),
    );
    return nowMs() - t0;
  } finally {
    await queue.close();
    redis.disconnect();
    closeDb(db);
  }
}

async function raw(ctx: BenchContext, file: string, queue: Queue): Promise<number> {
  const db = openRawDb(
    file,
    'CREATE TABLE IF NOT EXISTS raw_runs (id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at INTEGER NOT NULL, request TEXT NOT NULL)',
  );
  const insert = db.prepare(
    "INSERT INTO raw_runs (id, status, created_at, request) VALUES (?, 'queued', ?, ?)",
  );
  const base = sftRequest('/data');
  const t0 = nowMs();
  const ids = Array.from({ length: RUNS }, () => randomUUID());
  db.transaction(() => {
    ids.forEach((id, i) =>
      insert.run(
        id,
        Date.now(),
        JSON.stringify({
          ...base,
          learning_rate: LEARNING_RATES[i % 10],
          seed: SEEDS[Math.floor(i / 10) % 10],
          iters: ITERS[Math.floor(i / 100)],
        }),
      ),
    );
  })();
  await queue.addBulk(ids.map((id) => ({ name: 'train', data: { runId: id }, opts: { jobId: id } })));
  const ms = nowMs() - t0;
  db.close();
  return ms;
}

export async function sweepSubmit(ctx: BenchContext): Promise<Figure[]> {
  const reps = ctx.quick ? 1 : 5;
  const d = deployment(ctx, 'sweep');
  const api = await startProjectApi(d);
  const client = new HttpClient(api.port);
  const rawQueue = new Queue('runs', { connection: { url: ctx.redisUrl }, prefix: prefix('raw-sweep') });
  const rawFile = path.join(subdir(ctx, 'raw-sweep'), 'raw.sqlite');
  try {
    const probe = await client.request('POST', '/v1/sweeps', {});
    const viaRoute = probe.status !== 404;
    const project: number[] = [];
    const baseline: number[] = [];
    await raw(ctx, rawFile, rawQueue); // warm-up
    if (viaRoute)
      await client.json('POST', '/v1/runs', sftRequest(d.dataset)); // warm-up; validates the dataset once
    else await api.proc.stop();
    for (let r = 0; r < reps; r++) {
      if (viaRoute) {
        const t0 = nowMs();
        const res = await client.request('POST', '/v1/sweeps', sweepBody(d.dataset, r));
        if (res.status !== 201) throw new Error(`POST /v1/sweeps: ${res.status} ${res.body.slice(0, 500)}`);
        project.push(nowMs() - t0);
      } else project.push(await buildingBlocks(ctx, d, r));
      baseline.push(await raw(ctx, rawFile, rawQueue));
      ctx.log(
        `sweep rep ${r + 1}/${reps}: project ${project.at(-1)!.toFixed(0)} ms, raw ${baseline.at(-1)!.toFixed(0)} ms`,
      );
    }
    const how = viaRoute
      ? 'POST /v1/sweeps on the API process (grid 10 x 10 x 10), every combination validated, 201 answered'
      : 'POST /v1/sweeps has not landed: measured the building blocks in-process (prepareRun per combination, run folders, insertRuns in one transaction, queue.addBulk)';
    return [
      makeFigure(
        {
          name: `sweep of ${RUNS} runs submitted`,
          section: 'Submit',
          unit: 'ms',
          goal: '<= 2x',
          pass: atMostRatio(2),
          baselineWhat: `raw ${RUNS} INSERTs in one transaction + one queue.addBulk of ${RUNS} jobs`,
          note: how,
        },
        project,
        baseline,
      ),
    ];
  } finally {
    client.close();
    await api.proc.stop();
    await rawQueue.obliterate({ force: true }).catch(() => undefined);
    await rawQueue.close();
  }
}
