// A sweep's median stopping rule, judged on the control plane from the metric batches its members report: one check
// per running attempt (early-stop-check.ts). A stop it decides is answered to the worker's next metrics or control
// call, so it reaches a local and a remote worker alike (the control poll runs every second).
import { type Logger, pino } from 'pino';

import type { Db } from '../db/client.js';
import { perDb } from '../db/per-db.js';
import { getRun } from '../db/runs-repository.js';
import type { MetricPoint } from '../domain/trainer-output.js';
import type { StopSignal } from '../shared/report-protocol.js';
import { createEarlyStopCheck, type EarlyStopCheck } from './early-stop-check.js';

interface Entry {
  attempt: number;
  check: EarlyStopCheck | undefined;
  stop: StopSignal | null;
}

const entries = perDb(() => new Map<string, Entry>());
const quiet = pino({ level: 'silent' });

/** Feeds a stored batch to the run's check (made on the attempt's first batch; none for runs outside such a sweep). */
export function earlyStopOnMetrics(
  db: Db,
  runId: string,
  attempt: number,
  points: readonly MetricPoint[],
  log: Logger = quiet,
): void {
  const map = entries(db);
  let entry = map.get(runId);
  if (entry?.attempt !== attempt) {
    entry?.check?.close();
    const run = getRun(db, runId);
    if (!run) return;
    const fresh: Entry = { attempt, check: undefined, stop: null };
    fresh.check = createEarlyStopCheck(
      db,
      run,
      (reason) => (fresh.stop = { stopReason: 'early_stopped', reason }),
      log.child({ runId }),
    );
    map.set(runId, fresh);
    entry = fresh;
  }
  entry.check?.onMetrics(points);
}

/** The stop the rule decided for this attempt, if any. */
export function earlyStopOf(db: Db, runId: string, attempt: number): StopSignal | null {
  const entry = entries(db).get(runId);
  return entry?.attempt === attempt ? entry.stop : null;
}

/** The attempt ended: its check goes. */
export function forgetEarlyStop(db: Db, runId: string): void {
  const map = entries(db);
  map.get(runId)?.check?.close();
  map.delete(runId);
}
