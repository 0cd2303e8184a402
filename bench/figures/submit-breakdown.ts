// The submit path step by step, in this process, warm: CPU and wall µs per call of each step POST /v1/runs
// takes (against a temp DATA_DIR and the benchmark's Redis), next to the raw route's steps. Shows where the
// submit-throughput ratio goes. Full runs only.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { Queue } from 'bullmq';

import { runView } from '../../src/api/run-view.js';
import { newRunRow, prepareRun } from '../../src/app/submit-run.js';
import { createDatasetValidator } from '../../src/datasets/validate-dataset.js';
import { closeDb, dbFilePath, openDb } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { countRunsByStatus, getRun, insertRun } from '../../src/db/runs-repository.js';
import { buildCommand } from '../../src/domain/build-command.js';
import { parseRunRequest } from '../../src/domain/run-request.js';
import { checkRunInputs } from '../../src/inputs/check-run-inputs.js';
import { createPathPolicy } from '../../src/inputs/path-policy.js';
import { createDataResolver } from '../../src/inputs/resolve-data.js';
import { loadConfig } from '../../src/shared/config.js';
import { trainJob } from '../../src/shared/job-kinds.js';
import { addJobs } from '../../src/shared/queue.js';
import { type BenchContext, prefix } from '../lib/context.js';
import { deployment } from '../lib/project.js';
import { openRawDb } from '../lib/raw-db.js';
import { sftRequest } from '../lib/requests.js';
import { nowMs } from '../lib/stats.js';
import { RawRequest } from '../raw/raw-request.js';

export interface Breakdown {
  note: string;
  steps: { step: string; cpuUs: number; wallUs: number }[];
}

const N = 2000;

export async function submitBreakdown(ctx: BenchContext): Promise<Breakdown> {
  const d = deployment(ctx, 'breakdown');
  const config = loadConfig({ ...d.env, LOG_LEVEL: 'silent' });
  const db = openDb(dbFilePath(d.dataDir));
  migrate(db);
  const queue = new Queue('runs', { connection: { url: ctx.redisUrl }, prefix: prefix('breakdown') });
  const rawDb = openRawDb(
    path.join(d.dataDir, 'raw.sqlite'),
    'CREATE TABLE raw_runs (id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at INTEGER NOT NULL, request TEXT NOT NULL)',
  );
  const rawInsert = rawDb.prepare(
    "INSERT INTO raw_runs (id, status, created_at, request) VALUES (?, 'queued', ?, ?)",
  );
  const inputs = {
    validator: createDatasetValidator(),
    resolveData: createDataResolver(d.dataDir),
    assertAllowedPath: createPathPolicy(config.allowedRoots),
  };
  const body = sftRequest(d.dataset);
  const steps: Breakdown['steps'] = [];
  const step = async (name: string, fn: (i: number) => unknown) => {
    for (let i = 0; i < 200; i++) await fn(i + N);
    const c0 = process.cpuUsage();
    const t0 = nowMs();
    for (let i = 0; i < N; i++) await fn(i);
    const c = process.cpuUsage(c0);
    steps.push({ step: name, cpuUs: (c.user + c.system) / N, wallUs: ((nowMs() - t0) * 1000) / N });
  };
  try {
    const parsed = parseRunRequest(body);
    const prepared = await prepareRun(body, { config, inputs });
    let k = 0;
    const fresh = () => ({ ...prepared, id: `run_bench_${k++}` });
    await step('parseRunRequest (zod schema of the method, cross-field rules)', () => parseRunRequest(body));
    await step('checkRunInputs, dataset report cached: all checks', () =>
      checkRunInputs(parsed.request, inputs),
    );
    await step('- of which assertAllowedPath(data): realpath of the path and of every root', () =>
      inputs.assertAllowedPath('data', d.dataset),
    );
    await step(
      '- of which the dataset cache hit: realpath, stat of the dir and 3 split files, report copy',
      () => inputs.validator.validate({ dir: d.dataset, mode: 'sft', batchSize: 4 }),
    );
    await step('buildCommand (argv + config.yaml)', () =>
      buildCommand(parsed.request, { python: config.mlxPython, runDir: prepared.runDir, dataDir: d.dataset }),
    );
    await step('insertRun (row, tags, first event; one transaction)', () =>
      insertRun(db, newRunRow(fresh())),
    );
    const queued = countRunsByStatus(db, ['queued', 'interrupted']);
    await step(`assertQueueHasRoom: count of queued runs (${queued} queued; it grows with the queue)`, () =>
      countRunsByStatus(db, ['queued', 'interrupted']),
    );
    await step('queue.add (BullMQ, one Redis round trip)', (i) =>
      addJobs(queue, [trainJob(`b${i}-${k++}`, 1)]),
    );
    const run = getRun(db, prepared.id) ?? insertRun(db, newRunRow(prepared));
    await step('getRun + runView + JSON.stringify (the 201 answer)', () =>
      JSON.stringify(runView(getRun(db, run.id)!)),
    );
    await step('raw route: RawRequest.safeParse', () => RawRequest.safeParse(body));
    await step('raw route: prepared INSERT, autocommit', () =>
      rawInsert.run(randomUUID(), Date.now(), JSON.stringify(body)),
    );
    return {
      note:
        `${N} calls per step after 200 warm-up calls, in the benchmark process (no HTTP). Every fs.promises call ` +
        'costs ~25-35 µs of CPU here (promise + thread-pool round trip) against ~2-4 µs for its synchronous form.',
      steps,
    };
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    rawDb.close();
    closeDb(db);
    fs.rmSync(d.dataDir, { recursive: true, force: true });
  }
}
