// A run's progress: iteration of total, percent, and the ETA from the time per iteration so far.
import type { RunProgress } from '../contract/runs.js';
import type { Run } from '../domain/run.js';

export function progressOf(run: Run, now = Date.now()): RunProgress {
  const { progressIteration: iteration, progressTotal: total } = run;
  const percent = iteration != null && total ? Math.min(100, (100 * iteration) / total) : null;
  let etaSeconds: number | null = null;
  if (run.status === 'running' && run.startedAt && iteration && total) {
    const perIter = (now - run.startedAt) / iteration;
    etaSeconds = Math.max(0, Math.round((perIter * (total - iteration)) / 1000));
  }
  return {
    iteration,
    total,
    percent,
    etaSeconds,
    latestLoss: run.latestLoss,
    latestValLoss: run.latestValLoss,
  };
}
