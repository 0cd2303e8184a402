// Figure: log ingestion. A trainer (bench/fixtures/emitter) prints N lines as fast as it can; the worker's
// RunOutputSink writes them to the run's log file and SQLite. lines/s persisted = N / (trainer start -> run
// final, when every line is committed) against raw batched better-sqlite3 INSERTs of the same lines into a
// table of the same shape. A second figure compares the trainer's own wall time while the service reads its
// pipe with its wall time under a raw reader that only counts newlines: equal means it never waited on the pipe.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import Database from 'better-sqlite3';

import { TRAINER_ENV } from '../../src/domain/build-command.js';
import { type BenchContext, subdir } from '../lib/context.js';
import { atLeastRatio, type Figure, makeFigure } from '../lib/figure.js';
import { HttpClient } from '../lib/http-client.js';
import { deployment, EMITTER_PATH, startProjectApi, startProjectWorker } from '../lib/project.js';
import { sftRequest } from '../lib/requests.js';
import { StartSignal } from '../lib/start-signal.js';
import { median, nowMs, sleep } from '../lib/stats.js';

interface EmitTimes {
  lines: number;
  wall_s: number;
  write_s: number;
  max_write_s: number;
}

const lastTimes = (file: string): EmitTimes =>
  JSON.parse(fs.readFileSync(file, 'utf8').trim().split('\n').at(-1)!) as EmitTimes;

/** The emitter's lines, built the same way in JS for the raw insert baseline. */
function emitterLines(n: number): string[] {
  const out: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    if (i % 1000 === 999) {
      const it = Math.floor(i / 1000) + 1;
      out[i] =
        `Iter ${it}: loss ${(2.5 / (1 + it / 100)).toFixed(3)}, lr 1.000e-05, it/s 2.345, tok/s 1234.567, trained_tok ${it * 512}, peak_mem 1.234GB`;
    } else out[i] = `[emitter] step=${i} simulated trainer output, as fast as it can go`.padEnd(99, '.');
  }
  return out;
}

/** Raw batched inserts (1,000 rows per transaction) into a table shaped like log_lines. */
function rawInsert(dir: string, lines: string[]): number {
  const file = path.join(dir, `raw-logs-${Date.now()}.sqlite`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(
    'CREATE TABLE log_lines (run_id TEXT NOT NULL, seq INTEGER NOT NULL, stream TEXT NOT NULL, text TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (run_id, seq))',
  );
  const insert = db.prepare(
    "INSERT INTO log_lines (run_id, seq, stream, text, at) VALUES ('run_raw', ?, 'stdout', ?, ?)",
  );
  const batch = db.transaction((from: number, to: number) => {
    const at = Date.now();
    for (let i = from; i < to; i++) insert.run(i + 1, lines[i], at);
  });
  const t0 = nowMs();
  for (let i = 0; i < lines.length; i += 1000) batch(i, Math.min(lines.length, i + 1000));
  const seconds = (nowMs() - t0) / 1000;
  db.close();
  fs.rmSync(file, { force: true });
  return lines.length / seconds;
}

/** The emitter under a raw reader: child_process.spawn, stdout drained, newlines counted. */
async function rawReader(ctx: BenchContext, env: Record<string, string>, n: number): Promise<void> {
  const child = spawn(ctx.python, ['-m', 'mlx_lm_lora.train'], {
    env: { ...process.env, ...TRAINER_ENV, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let count = 0;
  child.stdout.on('data', (b: Buffer) => {
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) count++;
  });
  const code = await new Promise((resolve) => child.once('close', resolve));
  if (code !== 0 || count !== n) throw new Error(`raw reader: exit ${String(code)}, ${count} of ${n} lines`);
}

export async function logIngestion(ctx: BenchContext): Promise<Figure[]> {
  const reps = ctx.quick ? 1 : 5;
  const n = ctx.quick ? 200_000 : 1_000_000;
  const dir = subdir(ctx, 'logs-raw');
  const signal = new StartSignal(subdir(ctx, 'logs-start'));
  const timesFile = path.join(dir, 'emit-times.jsonl');
  const emitEnv = {
    PYTHONPATH: EMITTER_PATH,
    BENCH_EMIT_LINES: String(n),
    BENCH_EMIT_TIMES_FILE: timesFile,
    MLX_STANDIN_PID_FILE: signal.file,
  };
  // The default 64 MiB log cap would drop the middle of 100 MB of lines; the cap is raised so every line stays.
  const d = deployment(ctx, 'logs', { LOG_CAP_BYTES: String(512 * 1024 * 1024) });
  const api = await startProjectApi(d);
  const worker = await startProjectWorker(d, EMITTER_PATH, emitEnv);
  const client = new HttpClient(api.port);
  const lines = emitterLines(n);
  try {
    const project: number[] = [];
    const raw: number[] = [];
    const wallService: number[] = [];
    const wallRaw: number[] = [];
    const blockedService: number[] = [];
    const blockedRaw: number[] = [];
    rawInsert(dir, lines.slice(0, 100_000)); // warm-up
    for (let r = 0; r < reps; r++) {
      const started = signal.arm();
      const created = await client.json<{ id: string }>('POST', '/v1/runs', sftRequest(d.dataset, r));
      const t0 = await started;
      let run: { status: string; logLines: number; error: string | null };
      for (;;) {
        run = await client.json('GET', `/v1/runs/${created.id}`);
        if (['succeeded', 'failed', 'cancelled'].includes(run.status)) break;
        await sleep(10);
      }
      const seconds = (nowMs() - t0) / 1000;
      if (run.status !== 'succeeded' || run.logLines < n)
        throw new Error(`run ${created.id}: ${run.status}, ${run.logLines} lines, ${run.error}`);
      project.push(n / seconds);
      const svc = lastTimes(timesFile);
      wallService.push(svc.wall_s);
      blockedService.push(svc.write_s);
      raw.push(rawInsert(dir, lines));
      await rawReader(ctx, emitEnv, n);
      const rr = lastTimes(timesFile);
      wallRaw.push(rr.wall_s);
      blockedRaw.push(rr.write_s);
      ctx.log(
        `log ingestion rep ${r + 1}/${reps}: project ${Math.round(project.at(-1)!)} lines/s, raw insert ${Math.round(raw.at(-1)!)} rows/s; ` +
          `trainer wall ${svc.wall_s.toFixed(2)} s (in write ${svc.write_s.toFixed(2)} s) under the service, ${rr.wall_s.toFixed(2)} s (${rr.write_s.toFixed(2)} s) under a raw reader`,
      );
    }
    const scale = ctx.quick
      ? `quick scale: ${n.toLocaleString('en-US')} lines, not 1,000,000`
      : `${n.toLocaleString('en-US')} lines of ~100 B`;
    return [
      makeFigure(
        {
          name: 'log ingestion, lines/s persisted',
          section: 'Worker',
          unit: 'lines/s',
          goal: '>= 0.5x',
          pass: atLeastRatio(0.5),
          baselineWhat: 'raw better-sqlite3 INSERTs, 1,000 per transaction, same table shape',
          note: `${scale}; trainer start -> run final (log file + SQLite committed); LOG_CAP_BYTES raised to 512 MiB so no line is dropped`,
        },
        project,
        raw,
      ),
      makeFigure(
        {
          name: "trainer's own wall time while the service reads its output",
          section: 'Worker',
          unit: 's',
          goal: '<= 1.1x (never waits on the pipe)',
          pass: (v, b) => (b === null ? null : v <= b * 1.1),
          baselineWhat: 'the same trainer under a raw reader that only counts newlines',
          note: `${scale} in ~8 KiB writes; time inside write() (blocked on a full pipe) median ${median(blockedService).toFixed(2)} s under the service, ${median(blockedRaw).toFixed(2)} s under the raw reader`,
        },
        wallService,
        wallRaw,
      ),
    ];
  } finally {
    client.close();
    signal.close();
    await worker.stop();
    await api.proc.stop();
  }
}
