// Figure: a trainer on a remote worker (SERVER_URL and WORKER_TOKEN: its reports go through the spool and HTTP to
// the control plane) printing at 100,000 lines/s (bench/fixtures/emitter). Its wall time and the time inside
// write() (blocked on a full pipe) against the same trainer under a raw reader that only counts newlines: the
// worker must never be the reason a trainer waits. Every line must reach the control plane.
import fs from 'node:fs';
import path from 'node:path';

import { type BenchContext, subdir } from '../lib/context.js';
import { type Figure, makeFigure } from '../lib/figure.js';
import { HttpClient } from '../lib/http-client.js';
import { deployment, EMITTER_PATH, startProjectApi, startProjectWorker } from '../lib/project.js';
import { sftRequest } from '../lib/requests.js';
import { median, sleep } from '../lib/stats.js';
import { lastTimes, PACED_RATE, rawReader } from './log-ingestion.js';

export async function remoteTrainer(ctx: BenchContext, section: string): Promise<Figure> {
  const reps = ctx.quick ? 1 : 3;
  const settings = { lines: ctx.quick ? 50_000 : 300_000, rate: PACED_RATE };
  const dir = subdir(ctx, 'remote-emit');
  const timesFile = path.join(dir, 'emit-times.jsonl');
  const control = path.join(dir, 'emit-control.json');
  fs.writeFileSync(control, JSON.stringify(settings));
  const emitEnv = { PYTHONPATH: EMITTER_PATH, BENCH_EMIT_CONTROL: control, BENCH_EMIT_TIMES_FILE: timesFile };
  // A control plane of its own: the other figures' runs must not reach this worker.
  const d = deployment(ctx, 'remote-emit', { WORKER_RATE_PER_MIN: '100000000' });
  const api = await startProjectApi(d);
  const http = new HttpClient(api.port);
  const { token } = await http.json<{ token: string }>('POST', '/v1/workers', { name: 'bench-remote' });
  const dataDir = subdir(ctx, 'remote-worker');
  const worker = await startProjectWorker(
    { ...d, dataDir, env: { ...d.env, DATA_DIR: dataDir } },
    EMITTER_PATH,
    {
      ...emitEnv,
      SERVER_URL: `http://127.0.0.1:${api.port}`,
      WORKER_TOKEN: token,
    },
  );
  const remote = { wall: [] as number[], blocked: [] as number[] };
  const raw = { wall: [] as number[], blocked: [] as number[] };
  try {
    for (let r = 0; r < reps; r++) {
      const { id } = await http.json<{ id: string }>('POST', '/v1/runs', sftRequest(d.dataset, 100 + r));
      let run: { status: string; logLines: number; error: string | null };
      for (;;) {
        run = await http.json('GET', `/v1/runs/${id}`);
        if (['succeeded', 'failed', 'cancelled'].includes(run.status)) break;
        await sleep(50);
      }
      if (run.status !== 'succeeded' || run.logLines < settings.lines)
        throw new Error(`remote run ${id}: ${run.status}, ${run.logLines} lines, ${run.error}`);
      const t = lastTimes(timesFile);
      remote.wall.push(t.wall_s);
      remote.blocked.push(t.write_s);
      await rawReader(ctx, emitEnv, settings.lines);
      const b = lastTimes(timesFile);
      raw.wall.push(b.wall_s);
      raw.blocked.push(b.write_s);
      ctx.log(
        `remote trainer rep ${r + 1}/${reps}: wall ${t.wall_s.toFixed(3)} s, in write() ${t.write_s.toFixed(3)} s ` +
          `(raw reader: ${b.wall_s.toFixed(3)} s, ${b.write_s.toFixed(3)} s)`,
      );
    }
  } finally {
    await worker.stop();
    http.close();
    await api.proc.stop();
  }
  const count = (x: number) => x.toLocaleString('en-US');
  return makeFigure(
    {
      name: `remote worker: trainer's wall time printing ${count(settings.lines)} lines at ${count(PACED_RATE)} lines/s`,
      section,
      unit: 's',
      goal: '<= 1.05x (never blocked)',
      pass: (v, b) => (b === null ? null : v <= b * 1.05),
      baselineWhat: 'the same trainer under a raw reader that only counts newlines',
      note:
        `a remote worker (SERVER_URL, WORKER_TOKEN; spool and HTTP to the control plane), every line checked at the ` +
        `control plane; time inside write(), i.e. blocked on a full pipe: ${median(remote.blocked).toFixed(3)} s ` +
        `under the remote worker, ${median(raw.blocked).toFixed(3)} s under the raw reader`,
    },
    remote.wall,
    raw.wall,
  );
}
