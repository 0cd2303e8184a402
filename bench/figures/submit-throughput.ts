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

export async function submitThroughput(ctx: BenchContext): Promise<Figure[]> {
  const reps = ctx.quick ? 1 : 5;
  const seconds = ctx.quick ? 2 : 10;
  const d = deployment(ctx, 'submit');
  const rawDir = subdir(ctx, 'raw-submit');
  const [api, raw] = await Promise.all([
    startProjectApi(d),
    startRawServer(ctx, rawDir, {
      RAW_SUBMIT_DB: path.join(rawDir, 'raw.sqlite'),
      RAW_PREFIX: prefix('raw-submit'),
    }),
  ]);
  try {
    const body = JSON.stringify(sftRequest(d.dataset));
    // One request each first: both must accept the body (and the project validates the dataset once here).
    for (const port of [api.port, raw.port]) {
      const client = new HttpClient(port);
      await client.json('POST', '/v1/runs', JSON.parse(body));
      client.close();
    }
    const targets = [
      { port: api.port, pid: api.proc.pid, out: [] as Load[] },
      { port: raw.port, pid: raw.proc.pid, out: [] as Load[] },
    ];
    for (const t of targets) await load(t.port, t.pid, body, ctx.quick ? 1 : 3); // warm-up (JIT, statements, Lua scripts)
    for (let r = 0; r < reps; r++) {
      // Alternate which goes first so drift on a shared machine hits both alike.
      const order = r % 2 === 0 ? targets : [...targets].reverse();
      for (const t of order) t.out.push(await load(t.port, t.pid, body, seconds));
      ctx.log(
        `submit throughput rep ${r + 1}/${reps}: project ${Math.round(targets[0]!.out.at(-1)!.rps)} req/s, raw ${Math.round(targets[1]!.out.at(-1)!.rps)} req/s`,
      );
    }
    const [project, baseline] = targets as [(typeof targets)[0], (typeof targets)[0]];
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
          note: `autocannon -c ${CONNECTIONS} -d ${seconds} on the same 2 cores; server CPU (cores) project ${cores(project.out)}, raw ${cores(baseline.out)}`,
        },
        project.out.map((x) => x.rps),
        baseline.out.map((x) => x.rps),
      ),
    ];
  } finally {
    await api.proc.stop();
    await raw.close();
  }
}
