// Figures: resident memory of the API and worker processes at rest (started, ready, idle), next to the raw
// baseline's server and worker processes, each pair run the same way (the API servers with node --import tsx, as
// `npm run api` does; the workers compiled, with `npm run worker`'s node flags); and of a remote worker (its own
// DATA_DIR, SERVER_URL and WORKER_TOKEN: no SQLite, no Fastify) next to the raw worker.
import path from 'node:path';

import { npmRunWorker } from '../lib/compiled.js';
import { type BenchContext, prefix, subdir } from '../lib/context.js';
import { atMost, type Figure, makeFigure, reported } from '../lib/figure.js';
import { rssMb } from '../lib/processes.js';
import { deployment, STAND_IN_PATH, startProjectApi, startProjectWorker } from '../lib/project.js';
import { closeRaw, startRawServer, startRawWorker } from '../lib/raw.js';
import { median, sleep } from '../lib/stats.js';

export async function idleRss(ctx: BenchContext): Promise<Figure[]> {
  const reps = ctx.quick ? 1 : 3;
  const settleMs = ctx.quick ? 1000 : 3000;
  const out = {
    api: [] as number[],
    worker: [] as number[],
    rawApi: [] as number[],
    rawWorker: [] as number[],
    remoteWorker: [] as number[],
  };
  for (let r = 0; r < reps; r++) {
    const d = deployment(ctx, 'rss');
    const dir = subdir(ctx, 'raw-rss');
    const [api, worker, rawApi, rawWorker] = await Promise.all([
      startProjectApi(d),
      startProjectWorker(d, STAND_IN_PATH),
      startRawServer(ctx, dir, {
        RAW_SUBMIT_DB: path.join(dir, 'raw.sqlite'),
        RAW_PREFIX: prefix('raw-rss'),
      }),
      startRawWorker(ctx, dir, prefix('raw-rss-w')),
    ]);
    // A remote worker of this control plane, on a DATA_DIR of its own.
    const cred = (await (
      await fetch(`http://127.0.0.1:${api.port}/v1/workers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: `rss-${r}` }),
      })
    ).json()) as { token: string };
    const remote = await startProjectWorker(
      {
        ...d,
        dataDir: subdir(ctx, `rss-remote-${r}`),
        env: { ...d.env, DATA_DIR: subdir(ctx, `rss-remote-${r}`) },
      },
      STAND_IN_PATH,
      { SERVER_URL: `http://127.0.0.1:${api.port}`, WORKER_TOKEN: cred.token },
    );
    try {
      await sleep(settleMs);
      out.remoteWorker.push(rssMb(remote.pid).rss);
      out.api.push(rssMb(api.proc.pid).rss);
      out.worker.push(rssMb(worker.pid).rss);
      out.rawApi.push(rssMb(rawApi.proc.pid).rss);
      out.rawWorker.push(rssMb(rawWorker.pid).rss);
      ctx.log(
        `idle RSS rep ${r + 1}/${reps}: API ${out.api.at(-1)!.toFixed(0)} MB (raw ${out.rawApi.at(-1)!.toFixed(0)}), worker ${out.worker.at(-1)!.toFixed(0)} MB (raw ${out.rawWorker.at(-1)!.toFixed(0)}), remote worker ${out.remoteWorker.at(-1)!.toFixed(0)} MB`,
      );
    } finally {
      await remote.stop();
      await worker.stop();
      await api.proc.stop();
      await rawApi.close();
      await closeRaw(rawWorker);
    }
  }
  const flags = npmRunWorker().nodeArgs.join(' ');
  const note = `VmRSS ${settleMs / 1000} s after ready, nothing queued`;
  const workerNote = `${note}; both workers run compiled JavaScript (dist/, no tsx loader) with \`npm run worker\`'s flags (${flags})`;
  return [
    makeFigure(
      {
        name: 'idle RSS, API process',
        section: 'Memory',
        unit: 'MB',
        goal: null,
        pass: reported,
        baselineWhat: 'the raw Fastify + zod + better-sqlite3 + BullMQ server',
        note: `${note}; both run TypeScript through the tsx loader, as npm run api does`,
      },
      out.api,
      out.rawApi,
    ),
    makeFigure(
      {
        name: 'idle RSS, worker process',
        section: 'Memory',
        unit: 'MB',
        goal: null,
        pass: reported,
        baselineWhat: 'the raw BullMQ worker that spawns trainers',
        note: `${workerNote}; the local worker (SQLite, the report handlers, follow-up jobs)`,
      },
      out.worker,
      out.rawWorker,
    ),
    makeFigure(
      {
        name: 'idle RSS, remote worker process',
        section: 'Memory',
        unit: 'MB',
        goal: '<= 80 MB',
        pass: atMost(80),
        baselineWhat: 'the raw BullMQ worker that spawns trainers',
        note: `${workerNote}; the remote worker reports over HTTP and opens no SQLite; the local worker: ${median(out.worker).toFixed(0)} MB`,
      },
      out.remoteWorker,
      out.rawWorker,
    ),
  ];
}
