// Figures: the reporting protocol. Log lines persisted through the worker's spool, HTTP and the control plane's
// handler (a control-plane process of its own) against the same handler called in-process on a SQLite file (the
// path a local worker takes), in the same run; how fast the spool takes lines from a trainer (it must never be the
// reason a trainer waits: goal 100,000 lines/s); a real remote worker's trainer printing at 100,000 lines/s
// (remote-trainer.ts); and a worker's dataset download (cache miss) and cache hit.
import { randomUUID } from 'node:crypto';
import path from 'node:path';

import { closeDb, openDb } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { insertRun } from '../../src/db/runs-repository.js';
import { startAttemptReport } from '../../src/reports/attempt-reports.js';
import { logChunkReport } from '../../src/reports/data-reports.js';
import type { LogChunkBody } from '../../src/shared/report-protocol.js';
import { createControlPlaneClient } from '../../src/worker/remote/control-plane-client.js';
import { createDatasetCache } from '../../src/worker/remote/dataset-cache.js';
import { ReportSpool } from '../../src/worker/remote/report-spool.js';
import { reportBatchKey, spoolSender } from '../../src/worker/remote/spool-transport.js';
import { type BenchContext, subdir } from '../lib/context.js';
import { atLeastRatio, atMost, type Figure, makeFigure, reported } from '../lib/figure.js';
import { HttpClient } from '../lib/http-client.js';
import { deployment, startProjectApi } from '../lib/project.js';
import { sftRequest } from '../lib/requests.js';
import { nowMs } from '../lib/stats.js';
import { remoteTrainer } from './remote-trainer.js';

/** The output sink flushes every 2,000 lines (or 250 ms): one chunk per flush. */
const CHUNK_LINES = 2000;
const SECTION = 'Reporting protocol (several Macs)';

function chunks(n: number, attempt: number): LogChunkBody[] {
  const out: LogChunkBody[] = [];
  let offset = 0;
  for (let from = 0; from < n; from += CHUNK_LINES) {
    const lines = [];
    for (let i = from; i < Math.min(n, from + CHUNK_LINES); i++)
      lines.push({
        seq: i + 1,
        stream: 'stdout' as const,
        text: `[emitter] step=${i} simulated trainer output`.padEnd(99, '.'),
        at: Date.now(),
      });
    const bytes = lines.reduce((b, l) => b + Buffer.byteLength(l.text) + 1, 0);
    out.push({ attempt, offset, bytes, lines });
    offset += bytes;
  }
  return out;
}

export async function reportProtocol(ctx: BenchContext): Promise<Figure[]> {
  const n = ctx.quick ? 40_000 : 200_000;
  const reps = ctx.quick ? 1 : 3;
  const d = deployment(ctx, 'protocol', { WORKER_RATE_PER_MIN: '100000000', LOG_LEVEL: 'warn' });
  const api = await startProjectApi(d);
  const http = new HttpClient(api.port);
  const token = (
    JSON.parse((await http.request('POST', '/v1/workers', { name: 'bench-mac' })).body) as { token: string }
  ).token;
  const client = createControlPlaneClient(`http://127.0.0.1:${api.port}`, token);
  const localDir = subdir(ctx, 'protocol-local');
  const local = openDb(path.join(localDir, 'mlxq.sqlite'));
  migrate(local);
  const viaProtocol: number[] = [];
  const inProcess: number[] = [];
  const enqueueRates: number[] = [];
  try {
    for (let rep = 0; rep < reps; rep++) {
      const runId = (
        JSON.parse((await http.request('POST', '/v1/runs', sftRequest(d.dataset, rep))).body) as {
          id: string;
        }
      ).id;
      await client.json('POST', '/v1/worker/attempts', { runId, deliveryId: randomUUID() });
      const body = chunks(n, 1);
      const spool = new ReportSpool({
        dir: subdir(ctx, 'spool'),
        key: `${runId}.1`,
        log: { warn: () => undefined, error: () => undefined },
        send: spoolSender(client),
        batchKey: reportBatchKey,
      });
      const t0 = nowMs();
      let enqueueMs = 0;
      // One chunk per turn of the event loop, as the output sink flushes one per batch of pipe reads: the spool
      // sends what is on disk while later chunks are still coming, as it does behind a trainer.
      for (const c of body) {
        const e0 = nowMs();
        spool.enqueue({ method: 'POST', path: `/v1/worker/runs/${runId}/logs`, body: c });
        enqueueMs += nowMs() - e0;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await spool.drained();
      viaProtocol.push(n / ((nowMs() - t0) / 1000));
      enqueueRates.push(n / (enqueueMs / 1000));
      await spool.finish();

      const localId = `run_local${rep}`;
      const request = {
        method: 'sft' as const,
        model: 'm',
        data: 'd',
        tags: [],
        priority: 0,
        fuse: false,
        iters: 10,
      };
      insertRun(local, {
        id: localId,
        method: 'sft',
        trainMode: 'sft',
        model: 'm',
        data: 'd',
        request,
        argv: [],
        configYaml: '',
        runDir: localDir,
        adapterPath: localDir,
      });
      startAttemptReport(local, 'local', { runId: localId, deliveryId: randomUUID() });
      // Built before the clock starts, as the protocol's side is.
      const localChunks = chunks(n, 1);
      const t1 = nowMs();
      for (const c of localChunks) logChunkReport(local, 'local', localId, c);
      inProcess.push(n / ((nowMs() - t1) / 1000));
    }
    const download = await datasetFigures(ctx, api.port, client);
    const trainer = await remoteTrainer(ctx, SECTION);
    return [
      makeFigure(
        {
          name: 'log lines persisted via the reporting protocol',
          section: SECTION,
          unit: 'lines/s',
          goal: '>= 0.5x',
          pass: atLeastRatio(0.5),
          baselineWhat: 'the same handler in-process (a local worker)',
          note:
            `${n} lines in chunks of ${CHUNK_LINES}: spool on disk, HTTP to a control-plane process (a backlog goes ` +
            `in calls of up to 4 MiB), SQLite`,
        },
        viaProtocol,
        inProcess,
      ),
      makeFigure(
        {
          name: 'spool takes trainer lines',
          section: SECTION,
          unit: 'lines/s',
          goal: '>= 100000 lines/s',
          pass: (v) => v >= 100_000,
          note: 'time spent in ReportSpool.enqueue (a synchronous append) per line; the trainer waits on nothing else',
        },
        enqueueRates,
      ),
      trainer,
      ...download,
    ];
  } finally {
    client.close();
    closeDb(local);
    await api.proc.stop();
  }
}

/** A dataset uploaded once, fetched by a worker's cache: the miss (download, hash, rename) and the hit. */
async function datasetFigures(
  ctx: BenchContext,
  port: number,
  client: ReturnType<typeof createControlPlaneClient>,
): Promise<Figure[]> {
  const rows = ctx.quick ? 20_000 : 200_000;
  const train =
    Array.from({ length: rows }, (_, i) =>
      JSON.stringify({ text: `row ${i} ${'lorem ipsum '.repeat(20)}` }),
    ).join('\n') + '\n';
  const form = new FormData();
  form.append('train', new Blob([train]), 'train.jsonl');
  const res = await fetch(`http://127.0.0.1:${port}/v1/datasets`, { method: 'POST', body: form });
  const sha = ((await res.json()) as { sha256: string }).sha256;
  const misses: number[] = [];
  const hits: number[] = [];
  for (let rep = 0; rep < (ctx.quick ? 1 : 3); rep++) {
    const cache = createDatasetCache({ dir: subdir(ctx, 'dscache'), maxBytes: 1 << 30, client });
    const t0 = nowMs();
    await cache.get(sha);
    misses.push(nowMs() - t0);
    const t1 = nowMs();
    await cache.get(sha);
    hits.push(nowMs() - t1);
  }
  const mb = (train.length / 1e6).toFixed(1);
  return [
    makeFigure(
      {
        name: 'dataset download (cache miss)',
        section: SECTION,
        unit: 'ms',
        goal: null,
        pass: reported,
        note: `${mb} MB train.jsonl over HTTP, hashed and renamed into the worker's cache`,
      },
      misses,
    ),
    makeFigure(
      { name: 'dataset cache hit', section: SECTION, unit: 'ms', goal: '<= 5 ms', pass: atMost(5) },
      hits,
    ),
  ];
}
