// Figures: history queries at 100,000 runs and 10,000,000 metric points (quick: 10,000 and 1,000,000), over
// HTTP on the real API process, one request at a time. The list is GET /v1/runs (first page of 50, no filter
// and by status); the run detail is GET /v1/runs/:id plus GET /v1/runs/:id/metrics for a random run (one in
// 100 is a long run with 5,050 points). The baseline is a raw Fastify route on the same file running plain
// prepared statements (detail: the run row and all its metric rows in one answer). Samples alternate.
import fs from 'node:fs';
import path from 'node:path';

import { type BenchContext, subdir } from '../lib/context.js';
import { atMost, type Figure, makeFigure, reported } from '../lib/figure.js';
import { generateHistory } from '../lib/history-data.js';
import { HttpClient } from '../lib/http-client.js';
import { REPO_ROOT } from '../lib/processes.js';
import { deployment, startProjectApi } from '../lib/project.js';
import { startRawServer } from '../lib/raw.js';
import { nowMs, summarize } from '../lib/stats.js';

const SMALL_PAGES = ['/v1/runs?limit=10', '/v1/runs?status=succeeded&limit=10'];
const LISTS = [
  '/v1/runs?limit=50',
  '/v1/runs?status=succeeded&limit=50',
  '/v1/runs?status=failed&limit=50',
  '/v1/runs?status=queued&limit=50',
];

async function timed(client: HttpClient, urls: string[]): Promise<number> {
  const t0 = nowMs();
  for (const url of urls) {
    const r = await client.request('GET', url);
    if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${r.body.slice(0, 300)}`);
  }
  return nowMs() - t0;
}

/** A deterministic pseudo-random sequence, so both sides ask for the same runs. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

export async function historyQueries(ctx: BenchContext): Promise<Figure[]> {
  const runs = ctx.quick ? 10_000 : 100_000;
  const reps = ctx.quick ? 1 : 5;
  const listN = ctx.quick ? 300 : 2000;
  const detailN = ctx.quick ? 150 : 1000;
  const d = deployment(ctx, 'history');
  fs.rmSync(path.join(d.dataDir, 'inputs'), { recursive: true, force: true });
  fs.cpSync(path.join(REPO_ROOT, 'test_data', 'sft-chat'), path.join(d.dataDir, 'inputs', 'sft-chat'), {
    recursive: true,
  });
  const history = generateHistory(d.dataDir, runs);
  const dbBytes = fs.statSync(path.join(d.dataDir, 'mlxq.sqlite')).size;
  ctx.log(
    `history: ${runs} runs and ${history.points} metric points generated in ${history.seconds.toFixed(1)} s (${Math.round(dbBytes / 1e6)} MB)`,
  );
  const [api, raw] = await Promise.all([
    startProjectApi(d),
    startRawServer(ctx, subdir(ctx, 'raw-history'), { RAW_HISTORY_DB: path.join(d.dataDir, 'mlxq.sqlite') }),
  ]);
  const pc = new HttpClient(api.port);
  const rc = new HttpClient(raw.port);
  try {
    const pair = () => ({ project: [] as number[], raw: [] as number[] });
    const stats = { small: pair(), list: pair(), detail: pair() };
    const p50s = { small: [] as number[], list: [] as number[], detail: [] as number[] };
    const pick = lcg(42);
    const randomRun = () => history.runIds[Math.floor(pick() * history.runIds.length)]!;
    // Warm-up: JIT, statement caches.
    for (let i = 0; i < (ctx.quick ? 40 : 100); i++) {
      const id = randomRun();
      await timed(pc, [
        LISTS[i % LISTS.length]!,
        SMALL_PAGES[i % 2]!,
        `/v1/runs/${id}`,
        `/v1/runs/${id}/metrics`,
      ]);
      await timed(rc, [LISTS[i % LISTS.length]!, SMALL_PAGES[i % 2]!, `/v1/runs/${id}`]);
    }
    for (let r = 0; r < reps; r++) {
      const rep = { small: pair(), list: pair(), detail: pair() };
      for (let i = 0; i < listN; i++) {
        const url = LISTS[i % LISTS.length]!;
        rep.list.project.push(await timed(pc, [url]));
        rep.list.raw.push(await timed(rc, [url]));
      }
      for (let i = 0; i < listN / 2; i++) {
        const url = SMALL_PAGES[i % SMALL_PAGES.length]!;
        rep.small.project.push(await timed(pc, [url]));
        rep.small.raw.push(await timed(rc, [url]));
      }
      for (let i = 0; i < detailN; i++) {
        const id = randomRun();
        rep.detail.project.push(await timed(pc, [`/v1/runs/${id}`, `/v1/runs/${id}/metrics`]));
        rep.detail.raw.push(await timed(rc, [`/v1/runs/${id}`]));
      }
      for (const key of ['small', 'list', 'detail'] as const) {
        const sp = summarize(rep[key].project);
        stats[key].project.push(sp.p99);
        stats[key].raw.push(summarize(rep[key].raw).p99);
        p50s[key].push(sp.p50);
      }
      const show = (key: keyof typeof stats) =>
        `${stats[key].project.at(-1)!.toFixed(2)} ms (raw ${stats[key].raw.at(-1)!.toFixed(2)})`;
      ctx.log(
        `history rep ${r + 1}/${reps}: p99 list ${show('list')}, list of 10 ${show('small')}, detail ${show('detail')}`,
      );
    }
    const scale = ctx.quick
      ? `quick scale: ${runs.toLocaleString('en-US')} runs and ${history.points.toLocaleString('en-US')} metric points, not 100,000 and 10,000,000`
      : `${runs.toLocaleString('en-US')} runs, ${history.points.toLocaleString('en-US')} metric points, ${Math.round(dbBytes / 1e6)} MB file`;
    const p50 = (xs: number[]) => summarize(xs).p50.toFixed(2);
    const kb = async (client: HttpClient, url: string) =>
      ((await client.request('GET', url)).body.length / 1024).toFixed(0);
    const pageKb = { project: await kb(pc, LISTS[0]!), raw: await kb(rc, LISTS[0]!) };
    const smallKb = { project: await kb(pc, SMALL_PAGES[0]!), raw: await kb(rc, SMALL_PAGES[0]!) };
    return [
      makeFigure(
        {
          name: 'list runs (first page of 50), p99',
          section: 'History',
          unit: 'ms',
          goal: '<= 2 ms',
          pass: atMost(2),
          baselineWhat: 'raw Fastify route, prepared SELECT * ... ORDER BY created_at DESC, id DESC LIMIT 51',
          note: `${scale}; HTTP on loopback, one request at a time, ${listN} per repetition over no filter and 3 statuses; project p50 ${p50(p50s.list)} ms; a page is ${pageKb.project} KB of JSON (raw: ${pageKb.raw} KB)`,
        },
        stats.list.project,
        stats.list.raw,
      ),
      makeFigure(
        {
          name: 'list runs (page of 10), p99',
          section: 'History',
          unit: 'ms',
          goal: null,
          pass: reported,
          baselineWhat: 'the same raw route with LIMIT 11',
          note: `the same list with a fifth of the payload (${smallKb.project} KB, raw ${smallKb.raw} KB), ${listN / 2} requests per repetition; project p50 ${p50(p50s.small)} ms`,
        },
        stats.small.project,
        stats.small.raw,
      ),
      makeFigure(
        {
          name: 'run detail with its metrics, p99',
          section: 'History',
          unit: 'ms',
          goal: '<= 20 ms',
          pass: atMost(20),
          baselineWhat: 'raw Fastify route answering the run row and its metric rows in one request',
          note: `${scale}; GET /v1/runs/:id then /metrics for ${detailN} random runs per repetition (1 in 100 has 5,050 points, the rest 50); project p50 ${p50(p50s.detail)} ms`,
        },
        stats.detail.project,
        stats.detail.raw,
      ),
    ];
  } finally {
    pc.close();
    rc.close();
    await api.proc.stop();
    await raw.close();
  }
}
