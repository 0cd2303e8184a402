// The worker's side of a sweep's median stopping rule: after a metrics flush, read the completed members' series
// from SQLite (throttled, cached once final) and ask median-stopping.ts whether this member should stop.
import type { Logger } from 'pino';

import type { Db } from '../db/client.js';
import { newestAttemptSeries } from '../db/metrics-repository.js';
import { listRuns } from '../db/runs-list.js';
import { getSweep } from '../db/sweeps-repository.js';
import {
  decideMedianStop,
  DEFAULT_MIN_ITERATIONS,
  describeMedianStop,
  type EarlyStopping,
  earlyStoppingSchema,
  type MetricPointAt,
} from '../domain/median-stopping.js';
import type { MetricGoal, MetricSplit, Run } from '../domain/run.js';
import type { MetricPoint } from '../domain/trainer-output.js';

/** At most one look at the other members per this interval; a check costs one list and one read per new member. */
export const EARLY_STOP_CHECK_INTERVAL_MS = 1000;

interface Metric {
  name: string;
  split: MetricSplit;
  goal: MetricGoal;
}

export interface EarlyStopCheck {
  /** The sink's onMetrics hook. */
  onMetrics: (points: readonly MetricPoint[]) => void;
  /** Cancels a deferred check; call when the attempt ends. */
  close: () => void;
}

/**
 * The check for a member of a sweep that asked for early stopping; undefined otherwise (so sweeps without it, and
 * single runs, pay nothing). `stop` is called once, with the run event's reason. A report arriving within
 * `intervalMs` of the previous check is judged when the interval is up, not at the next report.
 */
export function createEarlyStopCheck(
  db: Db,
  run: Run,
  stop: (reason: string) => void,
  log: Logger,
  intervalMs = EARLY_STOP_CHECK_INTERVAL_MS,
): EarlyStopCheck | undefined {
  if (!run.sweepId) return undefined;
  const sweep = getSweep(db, run.sweepId);
  const spec = (sweep?.spec ?? {}) as { early_stopping?: unknown; metric?: Partial<Metric> };
  if (spec.early_stopping === undefined) return undefined;
  const parsed = earlyStoppingSchema.safeParse(spec.early_stopping);
  const { name, split, goal } = spec.metric ?? {};
  if (!parsed.success || !name || !split || !goal) {
    log.warn(
      { sweepId: run.sweepId },
      'the sweep spec has an unusable early_stopping or metric; not checking',
    );
    return undefined;
  }
  const rule: EarlyStopping = parsed.data;
  const metric: Metric = { name, split, goal };
  const sweepId = run.sweepId;
  // Succeeded members are final: their series never change, so each is read once.
  const completed = new Map<string, MetricPointAt[]>();
  let pending: MetricPointAt | undefined;
  let lastCheckAt = 0;
  let stopped = false;
  let deferred: NodeJS.Timeout | undefined;

  const check = (own: MetricPointAt) => {
    const members = listRuns(db, { sweepId, status: 'succeeded', limit: (sweep?.runCount ?? 0) + 1 }).items;
    const others = members.filter((m) => m.id !== run.id);
    if (others.length < rule.min_completed_runs) return;
    for (const m of others)
      if (!completed.has(m.id)) completed.set(m.id, newestAttemptSeries(db, m.id, metric.name, metric.split));
    const decision = decideMedianStop({
      rule,
      goal,
      iteration: own.iteration,
      value: own.value,
      completed: others.map((m) => completed.get(m.id)!),
    });
    if (!decision.stop) return;
    stopped = true;
    const reason = describeMedianStop(metric, decision);
    log.info(
      { sweepId, iteration: decision.iteration, value: decision.value, median: decision.median },
      'early stopping the run',
    );
    stop(reason);
  };

  const checkPending = () => {
    deferred = undefined;
    if (stopped || pending === undefined) return;
    const wait = lastCheckAt + intervalMs - Date.now();
    if (wait > 0) {
      deferred = setTimeout(checkPending, wait);
      return;
    }
    lastCheckAt = Date.now();
    const own = pending;
    pending = undefined;
    try {
      check(own);
    } catch (err) {
      // The check is advisory: a failed read never stops or fails the run.
      log.error({ err, sweepId }, 'early-stopping check failed');
    }
  };

  return {
    onMetrics: (points) => {
      if (stopped) return;
      for (const p of points) {
        if (p.name !== name || p.split !== split) continue;
        if (pending === undefined || p.iteration >= pending.iteration)
          pending = { iteration: p.iteration, value: Number.isNaN(p.value) ? null : p.value };
      }
      if (pending === undefined || pending.iteration < (rule.min_iterations ?? DEFAULT_MIN_ITERATIONS)) {
        pending = undefined;
        return;
      }
      if (deferred === undefined) checkPending();
    },
    close: () => {
      stopped = true;
      clearTimeout(deferred);
    },
  };
}
