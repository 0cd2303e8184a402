// Generates a run history straight into SQLite: runs through the runs repository (insertRuns, as a sweep
// would), then one bulk UPDATE giving them final states, and metric points through bulk INSERTs in primary-key
// order. One run in 100 is a long one with 5,050 points; the others have 50 (100,000 runs -> 10,000,000 points).
import path from 'node:path';

import { closeDb, dbFilePath, openDb } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { insertRuns } from '../../src/db/runs-repository.js';
import { buildCommand } from '../../src/domain/build-command.js';
import type { Method } from '../../src/domain/methods.js';
import { newRunRow } from '../../src/domain/new-run.js';
import type { NewRun } from '../../src/domain/run.js';
import { parseRunRequest } from '../../src/domain/run-request.js';
import { sftRequest } from './requests.js';

export const LONG_RUN_EVERY = 100;
const TRAIN_NAMES = [
  'it_per_sec',
  'learning_rate',
  'loss',
  'peak_memory',
  'tokens_per_sec',
  'trained_tokens',
];

/** Points of run number i: long runs 6 x 800 train + 250 val, short ones 6 x 8 train + 2 val. */
export function pointsOf(i: number): number {
  return i % LONG_RUN_EVERY === 0 ? 6 * 800 + 250 : 6 * 8 + 2;
}

function runId(createdAt: number, i: number): string {
  return `run_${createdAt.toString(36).padStart(9, '0')}${i.toString(16).padStart(10, '0')}`;
}

export interface History {
  dataDir: string;
  runIds: string[];
  points: number;
  seconds: number;
}

export function generateHistory(dataDir: string, runs: number): History {
  const t0 = Date.now();
  const db = openDb(dbFilePath(dataDir));
  migrate(db);
  const { request, warnings } = parseRunRequest(sftRequest(path.join(dataDir, 'inputs', 'sft-chat')));
  const start = Date.now() - runs * 60_000;
  const methods: Method[] = ['sft', 'sft', 'sft', 'dpo', 'grpo', 'orpo'];
  const ids: string[] = [];
  const CHUNK = 1000;
  for (let from = 0; from < runs; from += CHUNK) {
    const rows: NewRun[] = [];
    for (let i = from; i < Math.min(runs, from + CHUNK); i++) {
      const createdAt = start + i * 60_000;
      const id = runId(createdAt, i);
      const runDir = path.join(dataDir, 'runs', id);
      const command = buildCommand(request, { python: 'python3', runDir, dataDir: request.data });
      ids.push(id);
      rows.push({
        ...newRunRow({ id, request, warnings, runDir, command }, { createdAt }),
        name: `history-${i}`,
        method: methods[i % methods.length]!,
        trainMode: 'sft',
      });
    }
    insertRuns(db, rows);
  }
  // Final states: 75 % succeeded, 15 % failed, 5 % cancelled, the newest 5 % still queued.
  db.$client.exec(`
    UPDATE runs SET
      status = CASE WHEN rowid > ${Math.floor(runs * 0.95)} THEN 'queued'
                    WHEN rowid % 20 < 3 THEN 'failed' WHEN rowid % 20 = 3 THEN 'cancelled' ELSE 'succeeded' END,
      attempt = 1, worker = 'bench:1', mlx_version = '3.1.2',
      started_at = created_at + 1000, finished_at = created_at + 3601000, duration_ms = 3600000,
      progress_iteration = 600, progress_total = 600, latest_loss = 1.234, latest_val_loss = 1.345,
      adapter_file = adapter_path || '/adapters.safetensors', log_lines = 5000, log_bytes = 400000
    WHERE rowid <= ${Math.floor(runs * 0.95)}`);
  db.$client.exec(
    "UPDATE runs SET status = 'queued' WHERE status NOT IN ('succeeded', 'failed', 'cancelled')",
  );
  const insert = db.$client.prepare(
    'INSERT INTO metrics (run_id, name, split, iteration, attempt, value) VALUES (?, ?, ?, ?, 1, ?)',
  );
  const writeRuns = db.$client.transaction((from: number, to: number) => {
    let n = 0;
    for (let i = from; i < to; i++) {
      const id = ids[i]!;
      const long = i % LONG_RUN_EVERY === 0;
      const trainIters = long ? 800 : 8;
      const valIters = long ? 250 : 2;
      // Primary-key order (run_id, name, split, iteration): 'loss' holds both splits.
      for (const name of TRAIN_NAMES) {
        for (let it = 1; it <= trainIters; it++)
          insert.run(id, name, 'train', it * 10, name === 'loss' ? 2.5 / (1 + it / 100) : it);
        if (name === 'loss')
          for (let it = 1; it <= valIters; it++) insert.run(id, name, 'val', it * 32, 2.6 / (1 + it / 30));
        n += trainIters + (name === 'loss' ? valIters : 0);
      }
    }
    return n;
  });
  let points = 0;
  for (let from = 0; from < runs; from += 200) points += writeRuns(from, Math.min(runs, from + 200));
  closeDb(db);
  return { dataDir, runIds: ids, points, seconds: (Date.now() - t0) / 1000 };
}
