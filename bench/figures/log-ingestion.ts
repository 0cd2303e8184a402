// Figures: log ingestion. A trainer (bench/fixtures/emitter) prints N lines as fast as it can; the worker's
// RunOutputSink writes them to the run's log file and SQLite. lines/s persisted = N / (trainer start -> run
// final, when every line is committed) against raw batched better-sqlite3 INSERTs of the same lines into a
// table of the same shape. Whether the trainer waits on its pipe: its own wall time while the service reads
// its output against its wall time under a raw reader that only counts newlines, paced at 100,000 lines/s and
// at full speed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { TRAINER_ENV } from '../../src/domain/build-command.js';
import { type BenchContext, subdir } from '../lib/context.js';
import { atLeastRatio, type Figure, makeFigure, reported } from '../lib/figure.js';
import { HttpClient } from '../lib/http-client.js';
import { deployment, EMITTER_PATH, startProjectApi, startProjectWorker } from '../lib/project.js';
import { openRawDb } from '../lib/raw-db.js';
import { sftRequest } from '../lib/requests.js';
import { StartSignal } from '../lib/start-signal.js';
import { median, nowMs, sleep } from '../lib/stats.js';

/** Far above what mlx-lm-lora prints (a few lines per second), well below the service's ingestion rate. */
export const PACED_RATE = 100_000;
const POLL_MS = 20;

interface EmitTimes {
  lines: number;
  wall_s: number;
  write_s: number;
  max_write_s: number;
}

export const lastTimes = (file: string): EmitTimes =>
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
  const db = openRawDb(
    file,
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
export async function rawReader(ctx: BenchContext, env: Record<string, string>, n: number): Promise<void> {
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

interface Side {
  wall: number[];
  blocked: number[];
}
const side = (): Side => ({ wall: [], blocked: [] });

export async function logIngestion(ctx: BenchContext): Promise<Figure[]> {
  const reps = ctx.quick ? 1 : 5;
  const n = ctx.quick ? 200_000 : 1_000_000;
  const paced = { lines: ctx.quick ? 50_000 : 300_000, rate: PACED_RATE };
  const dir = subdir(ctx, 'logs-raw');
  const signal = new StartSignal(subdir(ctx, 'logs-start'));
  const timesFile = path.join(dir, 'emit-times.jsonl');
  const control = path.join(dir, 'emit-control.json');
  const emitEnv = {
    PYTHONPATH: EMITTER_PATH,
    BENCH_EMIT_CONTROL: control,
    BENCH_EMIT_TIMES_FILE: timesFile,
    MLX_STANDIN_PID_FILE: signal.file,
  };
  // The default 64 MiB log cap would drop the middle of 100 MB of lines; the cap is raised so every line stays.
  const d = deployment(ctx, 'logs', { LOG_CAP_BYTES: String(512 * 1024 * 1024) });
  const [api, worker] = await Promise.all([startProjectApi(d), startProjectWorker(d, EMITTER_PATH, emitEnv)]);
  const client = new HttpClient(api.port);
  const lines = emitterLines(n);

  /** One run through the service; returns seconds from trainer start to the run final (all lines committed). */
  const viaService = async (settings: { lines: number; rate: number }, i: number): Promise<number> => {
    fs.writeFileSync(control, JSON.stringify(settings));
    const started = signal.arm();
    const created = await client.json<{ id: string }>('POST', '/v1/runs', sftRequest(d.dataset, i));
    const t0 = await started;
    let run: { status: string; logLines: number; error: string | null };
    for (;;) {
      run = await client.json('GET', `/v1/runs/${created.id}`);
      if (['succeeded', 'failed', 'cancelled'].includes(run.status)) break;
      await sleep(POLL_MS);
    }
    const seconds = (nowMs() - t0) / 1000;
    if (run.status !== 'succeeded' || run.logLines < settings.lines) {
      throw new Error(`run ${created.id}: ${run.status}, ${run.logLines} lines, ${run.error}`);
    }
    return seconds;
  };
  const viaRawReader = async (settings: { lines: number; rate: number }) => {
    fs.writeFileSync(control, JSON.stringify(settings));
    await rawReader(ctx, emitEnv, settings.lines);
  };
  const record = (s: Side) => {
    const t = lastTimes(timesFile);
    s.wall.push(t.wall_s);
    s.blocked.push(t.write_s);
  };

  try {
    const project: number[] = [];
    const raw: number[] = [];
    const full = { service: side(), raw: side() };
    const slow = { service: side(), raw: side() };
    rawInsert(dir, lines.slice(0, 100_000)); // warm-up
    for (let r = 0; r < reps; r++) {
      project.push(n / (await viaService({ lines: n, rate: 0 }, r)));
      record(full.service);
      raw.push(rawInsert(dir, lines));
      await viaRawReader({ lines: n, rate: 0 });
      record(full.raw);
      await viaService(paced, r);
      record(slow.service);
      await viaRawReader(paced);
      record(slow.raw);
      ctx.log(
        `log ingestion rep ${r + 1}/${reps}: project ${Math.round(project.at(-1)!)} lines/s, raw insert ${Math.round(raw.at(-1)!)} rows/s; ` +
          `trainer wall at full speed ${full.service.wall.at(-1)!.toFixed(2)} s (raw reader ${full.raw.wall.at(-1)!.toFixed(2)} s), ` +
          `at ${PACED_RATE} lines/s ${slow.service.wall.at(-1)!.toFixed(3)} s (raw reader ${slow.raw.wall.at(-1)!.toFixed(3)} s)`,
      );
    }
    const count = (x: number) => x.toLocaleString('en-US');
    const scale = ctx.quick ? `quick scale: ${count(n)} lines, not 1,000,000` : `${count(n)} lines of ~100 B`;
    const blocked = (s: Side) => `${median(s.blocked).toFixed(3)} s`;
    return [
      makeFigure(
        {
          name: 'log ingestion, lines/s persisted',
          section: 'Worker',
          unit: 'lines/s',
          goal: '>= 0.5x',
          pass: atLeastRatio(0.5),
          baselineWhat:
            'raw better-sqlite3 INSERTs, one row per statement, 1,000 per transaction, same table shape',
          note:
            `${scale} printed as fast as Python can (~8 KiB writes); trainer start -> run final (log file + SQLite ` +
            `committed), polled every ${POLL_MS} ms; LOG_CAP_BYTES raised to 512 MiB so no line is dropped`,
        },
        project,
        raw,
      ),
      makeFigure(
        {
          name: `trainer's wall time printing ${count(paced.lines)} lines at ${count(PACED_RATE)} lines/s`,
          section: 'Worker',
          unit: 's',
          goal: '<= 1.05x (never waits on the pipe)',
          pass: (v, b) => (b === null ? null : v <= b * 1.05),
          baselineWhat: 'the same trainer under a raw reader that only counts newlines',
          note: `time inside write(), i.e. blocked on a full pipe: ${blocked(slow.service)} under the service, ${blocked(slow.raw)} under the raw reader`,
        },
        slow.service.wall,
        slow.raw.wall,
      ),
      makeFigure(
        {
          name: `trainer's wall time printing ${count(n)} lines at full speed`,
          section: 'Worker',
          unit: 's',
          goal: null,
          pass: reported,
          baselineWhat: 'the same trainer under a raw reader that only counts newlines',
          note:
            `Python prints faster than SQLite can commit, so at full speed the service's ingestion rate paces the ` +
            `trainer (backpressure through the pipe; the worker persists on the thread that reads it). ` +
            `Time inside write(): ${blocked(full.service)} under the service, ${blocked(full.raw)} under the raw reader`,
        },
        full.service.wall,
        full.raw.wall,
      ),
    ];
  } finally {
    client.close();
    signal.close();
    await worker.stop();
    await api.proc.stop();
  }
}
