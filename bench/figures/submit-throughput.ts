// Figure: POST /v1/runs on the real API process (validated, dataset check cached, row inserted, enqueued) against
// a raw Fastify + zod + better-sqlite3 + BullMQ route, both under autocannon, alternating, same machine.
import path from 'node:path';

import autocannon from 'autocannon';

import { type BenchContext, prefix, subdir } from '../lib/context.js';
import { atLeastRatio, type Figure, makeFigure } from '../lib/figure.js';
import { HttpClient } from '../lib/http-client.js';
import { cpuSeconds } from '../lib/processes.js';
import { deployment, startProjectApi } from '../lib/project.js';
import { startRawServer } from '../lib/raw.js';
import { sftRequest } from '../lib/requests.js';
import { nowMs } from '../lib/stats.js';

const CONNECTIONS = 20;

interface Load {
  rps: number;
  cores: number;
}

async function load(port: number, pid: number, body: string, seconds: number): Promise<Load> {
  const cpu0 = cpuSeconds(pid);
  const t0 = nowMs();
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/v1/runs`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    duration: seconds,
  });
  const cores = (cpuSeconds(pid) - cpu0) / ((nowMs() - t0) / 1000);
  const bad = r.errors + r.timeouts + r.non2xx;
  if (bad > 0)
    throw new Error(`port ${port}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx answers`);
  return { rps: r.requests.average, cores };
}

interface Servers {
  targets: { port: number; pid: number }[];
  close(): Promise<void>;
}

/** A fresh API (its own DATA_DIR and queue) and a fresh raw server, both warm, for one repetition. */
async function freshServers(
  ctx: BenchContext,
  warmSeconds: number,
): Promise<{ servers: Servers; body: string }> {
  const d = deployment(ctx, 'submit');
  const rawDir = subdir(ctx, 'raw-submit');
  const [api, raw] = await Promise.all([
    startProjectApi(d),
    startRawServer(ctx, rawDir, {
      RAW_SUBMIT_DB: path.join(rawDir, 'raw.sqlite'),
      RAW_PREFIX: prefix('raw-submit'),
    }),
  ]);
  const servers = {
    targets: [
      { port: api.port, pid: api.proc.pid },
      { port: raw.port, pid: raw.proc.pid },
    ],
    close: async () => {
      await api.proc.stop();
      await raw.close();
    },
  };
  const body = JSON.stringify(sftRequest(d.dataset));
  try {
    // One request each first: both must accept the body (and the project validates the dataset once here).
    for (const { port } of servers.targets) {
      const client = new HttpClient(port);
      await client.json('POST', '/v1/runs', JSON.parse(body));
      client.close();
    }
    for (const t of servers.targets) await load(t.port, t.pid, body, warmSeconds); // JIT, statements, Lua scripts
  } catch (e) {
    await servers.close();
    throw e;
  }
  return { servers, body };
}

export async function submitThroughput(ctx: BenchContext): Promise<Figure[]> {
  const reps = ctx.quick ? 1 : 5;
  const seconds = ctx.quick ? 2 : 10;
  const out = { project: [] as Load[], raw: [] as Load[] };
  for (let r = 0; r < reps; r++) {
    // Fresh processes and an empty queue each time: the queued-runs check counts the queue, so a queue grown by
    // earlier repetitions (beyond the default MAX_QUEUED_RUNS) would slow later ones.
    const { servers, body } = await freshServers(ctx, ctx.quick ? 1 : 2);
    try {
      const [api, raw] = servers.targets as [Servers['targets'][0], Servers['targets'][0]];
      // Alternate which goes first so drift on a shared machine hits both alike.
      if (r % 2 === 0) {
        out.project.push(await load(api.port, api.pid, body, seconds));
        out.raw.push(await load(raw.port, raw.pid, body, seconds));
      } else {
        out.raw.push(await load(raw.port, raw.pid, body, seconds));
        out.project.push(await load(api.port, api.pid, body, seconds));
      }
    } finally {
      await servers.close();
    }
    ctx.log(
      `submit throughput rep ${r + 1}/${reps}: project ${Math.round(out.project.at(-1)!.rps)} req/s, raw ${Math.round(out.raw.at(-1)!.rps)} req/s`,
    );
  }
  const cores = (l: Load[]) => l.map((x) => x.cores.toFixed(2)).join(', ');
  return [
    makeFigure(
      {
        name: 'submit throughput',
        section: 'Submit',
        unit: 'req/s',
        goal: '>= 0.8x',
        pass: atLeastRatio(0.8),
        baselineWhat: 'raw Fastify + zod + better-sqlite3 INSERT + BullMQ queue.add',
        note:
          `autocannon -c ${CONNECTIONS} -d ${seconds} on the same 2 cores, fresh processes and an empty queue each ` +
          `repetition; server CPU (cores) project ${cores(out.project)}, raw ${cores(out.raw)}`,
      },
      out.project.map((x) => x.rps),
      out.raw.map((x) => x.rps),
    ),
  ];
}
