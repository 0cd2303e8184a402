// Figure: the queue gap, the time the GPU sits idle between two runs on one worker: from one trainer's exit to the
// next queued run's trainer start. The project: N runs submitted over HTTP to the API (its reconciler running every
// second) and trained back to back by the worker process. The baseline: the same N trainer commands added in one
// addBulk to a raw BullMQ worker that child_process.spawn()s each. Both trainers are the stand-in with the same
// interpreter; it appends "start"/"exit" epoch times to MLX_STANDIN_TIMES_FILE (at start-up and at interpreter exit).
import fs from 'node:fs';
import path from 'node:path';

import { Queue } from 'bullmq';

import { TRAINER_ENV } from '../../src/domain/build-command.js';
import { type BenchContext, prefix, subdir } from '../lib/context.js';
import { type Figure, PercentileSeries } from '../lib/figure.js';
import { HttpClient } from '../lib/http-client.js';
import { deployment, STAND_IN_PATH, startProjectApi, startProjectWorker } from '../lib/project.js';
import { closeRaw, startRawWorker } from '../lib/raw.js';
import { sftRequest } from '../lib/requests.js';
import { type RunView, waitFinal } from '../lib/run-view.js';
import { sleep } from '../lib/stats.js';

/** Gaps in ms between each exit and the next start, from a times file of `start <s>` / `exit <s>` lines. */
export function gapsFromTimes(text: string): number[] {
  const marks = text
    .trim()
    .split('\n')
    .map((line) => line.split(' '))
    .map(([what, at]) => ({ what, at: Number(at) * 1000 }));
  const gaps: number[] = [];
  for (let i = 1; i < marks.length; i++) {
    if (marks[i]!.what === 'start' && marks[i - 1]!.what === 'exit')
      gaps.push(marks[i]!.at - marks[i - 1]!.at);
  }
  return gaps;
}

async function waitLines(file: string, lines: number, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    if (text.split('\n').filter(Boolean).length >= lines) return text;
    if (Date.now() > deadline) throw new Error(`${file}: fewer than ${lines} marks after ${timeoutMs} ms`);
    await sleep(50);
  }
}

export async function queueGap(ctx: BenchContext): Promise<Figure[]> {
  const reps = ctx.quick ? 1 : 3;
  const runs = ctx.quick ? 8 : 25;
  const dir = subdir(ctx, 'queue-gap');
  const d = deployment(ctx, 'queue-gap', { RECONCILE_INTERVAL_S: '1' });
  const rawPrefix = prefix('raw-queue-gap');
  const projectTimes = path.join(dir, 'project-times');
  const rawTimes = path.join(dir, 'raw-times');
  const [api, worker, rawWorker] = await Promise.all([
    startProjectApi(d),
    startProjectWorker(d, STAND_IN_PATH, { MLX_STANDIN_TIMES_FILE: projectTimes }),
    startRawWorker(ctx, subdir(ctx, 'raw-queue-gap'), rawPrefix),
  ]);
  const rawQueue = new Queue('runs', { connection: { url: ctx.redisUrl }, prefix: rawPrefix });
  const client = new HttpClient(api.port);
  try {
    const body = { ...sftRequest(d.dataset), iters: 2, steps_per_report: 1, save_every: 100 };
    // One run first, for the argv the raw worker runs (the same command, the same interpreter).
    fs.rmSync(projectTimes, { force: true });
    const first = await client.json<RunView>('POST', '/v1/runs', body);
    await waitLines(projectTimes, 2);
    const template = await waitFinal(client, first.id);
    if (template.status !== 'succeeded')
      throw new Error(`run ${first.id} ${template.status}: ${template.error}`);

    const series = new PercentileSeries();
    for (let r = 0; r < reps; r++) {
      // The project: all N submitted while the worker trains the first, so each exit finds the next run queued.
      fs.rmSync(projectTimes, { force: true });
      for (let i = 0; i < runs; i++) await client.json<RunView>('POST', '/v1/runs', body);
      const pg = gapsFromTimes(await waitLines(projectTimes, 2 * runs));
      // The baseline: the same commands, in one addBulk.
      fs.rmSync(rawTimes, { force: true });
      const env = { ...TRAINER_ENV, PYTHONPATH: STAND_IN_PATH, MLX_STANDIN_TIMES_FILE: rawTimes };
      const codes: number[] = [];
      const onDone = (m: { type?: string; code?: number } | null) => {
        if (m?.type === 'done') codes.push(m.code ?? -1);
      };
      rawWorker.child.on('message', onDone);
      await rawQueue.addBulk(
        Array.from({ length: runs }, () => ({
          name: 'train',
          data: { argv: template.argv, env, cwd: template.runDir },
          opts: { removeOnComplete: true, removeOnFail: true },
        })),
      );
      const rg = gapsFromTimes(await waitLines(rawTimes, 2 * runs));
      while (codes.length < runs) await sleep(20);
      rawWorker.child.off('message', onDone);
      if (codes.some((c) => c !== 0)) throw new Error(`raw trainer exit codes ${codes.join(',')}`);
      const { sp, sr } = series.add(pg, rg);
      ctx.log(
        `queue gap rep ${r + 1}/${reps}: project p50 ${sp.p50.toFixed(1)} p99 ${sp.p99.toFixed(1)} ms (${pg.length} gaps); raw p50 ${sr.p50.toFixed(1)} p99 ${sr.p99.toFixed(1)} ms (${rg.length} gaps)`,
      );
    }
    const spec = (name: string) => ({
      name,
      section: 'Queue',
      unit: 'ms',
      goal: '<= baseline + 50 ms',
      pass: (v: number, b: number | null) => (b === null ? null : v <= b + 50),
      baselineWhat: 'raw BullMQ worker loop: addBulk of the same trainer argv, child_process.spawn each',
      note:
        `${runs} runs per repetition trained back to back on one worker; gap = trainer exit (interpreter exit) -> next trainer start-up, ` +
        'both marked by the stand-in itself with time.time(); the project records each run (status, attempt, lease, logs) and the API reconciles every second',
    });
    return series.figures('queue gap: trainer exit -> next trainer start', spec);
  } finally {
    client.close();
    await worker.stop();
    await api.proc.stop();
    await closeRaw(rawWorker);
    await rawQueue.obliterate({ force: true }).catch(() => undefined);
    await rawQueue.close();
  }
}
