// A sweep's results (shaped as src/contract/sweeps.ts): its runs as a table (values, status, metrics), the status
// counts and the best run. Routes, notifications and sweep cancelling read them here.
import type {
  BestRun,
  FinalAndBest as FinalBest,
  SweepDetail,
  SweepRunRow,
  SweepSummary,
} from '../contract/sweeps.js';
import type { Db } from '../db/client.js';
import { listJobsOfRuns } from '../db/jobs-repository.js';
import { type FinalAndBest, finalAndBestMetric, type MetricValue } from '../db/metrics-repository.js';
import { listRuns } from '../db/runs-repository.js';
import { sweepRewardOf } from '../domain/methods.js';
import type { MetricGoal, MetricSplit, Run, Sweep } from '../domain/run.js';
import { isFinal, RUN_STATUSES, type RunStatus } from '../domain/run-status.js';
import { defaultSplit, type SweepMetric } from '../domain/sweep-spec.js';

const iso = (ms: number) => new Date(ms).toISOString();

type Point = NonNullable<FinalBest['final']>;

/** The sweep's metric; a sweep row without one (not created by this API) is judged on val loss. */
export function sweepMetric(sweep: Sweep): SweepMetric {
  const spec = sweep.spec as { metric?: Partial<SweepMetric> };
  const name = sweep.metricName ?? 'loss';
  return { name, split: spec.metric?.split ?? defaultSplit(name), goal: sweep.metricGoal ?? 'min' };
}

/** The sweep's runs in sweep order (one page: a sweep has at most runCount runs). */
export function sweepRuns(db: Db, sweep: Sweep): Run[] {
  const page = listRuns(db, { sweepId: sweep.id, limit: Math.max(1, sweep.runCount) + 1 });
  return page.items.sort((a, b) => (a.sweepIndex ?? 0) - (b.sweepIndex ?? 0));
}

const point = (v: MetricValue | null): Point | null =>
  v ? { iteration: v.iteration, value: v.value } : null;

function metricTable(
  db: Db,
  ids: string[],
  name: string,
  split: MetricSplit,
  goal: MetricGoal,
): Map<string, FinalBest> {
  const rows: FinalAndBest[] = finalAndBestMetric(db, ids, name, split, goal);
  return new Map(rows.map((r) => [r.runId, { final: point(r.final), best: point(r.best) }]));
}

/** Each run's mean reward (its mode's sweep reward, best is the highest); runs whose mode has none are left out. */
function rewardTable(db: Db, runs: readonly Run[]): Map<string, FinalBest> {
  const byMetric = new Map<string, { name: string; split: MetricSplit; ids: string[] }>();
  for (const r of runs) {
    const reward = sweepRewardOf(r.trainMode);
    if (!reward) continue;
    const key = `${reward.split}\0${reward.name}`;
    const group = byMetric.get(key) ?? { ...reward, ids: [] };
    group.ids.push(r.id);
    byMetric.set(key, group);
  }
  return new Map([...byMetric.values()].flatMap((g) => [...metricTable(db, g.ids, g.name, g.split, 'max')]));
}

export function sweepRows(db: Db, sweep: Sweep, runs: readonly Run[]): SweepRunRow[] {
  const ids = runs.map((r) => r.id);
  const metric = sweepMetric(sweep);
  const objective = metricTable(db, ids, metric.name, metric.split, metric.goal);
  const trainLoss = metricTable(db, ids, 'loss', 'train', 'min');
  const valLoss = metricTable(db, ids, 'loss', 'val', 'min');
  const reward = rewardTable(db, runs);
  const none: FinalBest = { final: null, best: null };
  const evaluation = new Map<string, { testLoss: number; testPpl: number }>();
  for (const j of listJobsOfRuns(db, ids)) {
    if (j.kind === 'evaluate' && j.status === 'succeeded' && j.result)
      evaluation.set(j.runId, { testLoss: Number(j.result.test_loss), testPpl: Number(j.result.test_ppl) });
  }
  return runs.map((r) => ({
    index: r.sweepIndex ?? 0,
    runId: r.id,
    name: r.name,
    status: r.status,
    values: r.sweepValues ?? {},
    progress: { iteration: r.progressIteration, total: r.progressTotal },
    objective: objective.get(r.id) ?? none,
    trainLoss: trainLoss.get(r.id) ?? none,
    valLoss: valLoss.get(r.id) ?? none,
    meanReward: sweepRewardOf(r.trainMode) ? (reward.get(r.id) ?? none) : null,
    evaluation: evaluation.get(r.id) ?? null,
    stopReason: r.stopReason,
    error: r.error,
    durationMs: r.durationMs,
  }));
}

/**
 * The succeeded run with the best final value of the sweep's metric (ties go to the lower index). Before any
 * run has succeeded, the leader among the runs that reported the metric, marked provisional.
 */
export function bestRun(rows: readonly SweepRunRow[], goal: MetricGoal): BestRun | null {
  const withValue = rows.filter(
    (r) => r.objective.final?.value != null && Number.isFinite(r.objective.final.value),
  );
  const succeeded = withValue.filter((r) => r.status === 'succeeded');
  const pool = succeeded.length > 0 ? succeeded : withValue;
  const better = (a: number, b: number) => (goal === 'min' ? a < b : a > b);
  let best: SweepRunRow | undefined;
  for (const r of pool) {
    if (!best || better(r.objective.final!.value!, best.objective.final!.value!)) best = r;
  }
  if (!best) return null;
  const active = rows.some((r) => !isFinal(r.status));
  return {
    runId: best.runId,
    index: best.index,
    values: best.values,
    status: best.status,
    value: best.objective.final!.value!,
    iteration: best.objective.final!.iteration,
    provisional: active || succeeded.length === 0,
  };
}

export function statusCounts(
  runs: readonly { status: RunStatus }[],
): Record<RunStatus, number> & { total: number } {
  const counts = Object.fromEntries(RUN_STATUSES.map((s) => [s, 0])) as Record<RunStatus, number>;
  for (const r of runs) counts[r.status]++;
  return { ...counts, total: runs.length };
}

function header(sweep: Sweep) {
  return {
    id: sweep.id,
    name: sweep.name,
    status: sweep.status,
    metric: sweepMetric(sweep),
    runCount: sweep.runCount,
    createdAt: iso(sweep.createdAt),
    updatedAt: iso(sweep.updatedAt),
  };
}

/**
 * GET /v1/sweeps/:id: the spec, progress counts, the best run and the table. Reads only: the sweep's status is
 * written when its last member ends (the final-status hook), never here.
 */
export function sweepDetail(db: Db, sweep: Sweep): SweepDetail {
  const runs = sweepRuns(db, sweep);
  const rows = sweepRows(db, sweep, runs);
  // Members the sweep's median stopping rule stopped (cancelled, stopReason 'early_stopped'); 0 without early_stopping.
  const earlyStopped = runs.filter((r) => r.stopReason === 'early_stopped').length;
  return {
    ...header(sweep),
    spec: sweep.spec,
    counts: statusCounts(runs),
    earlyStopped,
    best: bestRun(rows, sweepMetric(sweep).goal),
    runs: rows,
  };
}

/** One item of GET /v1/sweeps: the detail without the table and spec. */
export function sweepSummary(db: Db, stored: Sweep): SweepSummary {
  const { spec: _spec, runs: _runs, ...summary } = sweepDetail(db, stored);
  return summary;
}
