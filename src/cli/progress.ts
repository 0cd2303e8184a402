// Pure: one line of progress for a run (bar, iteration of total, percent, ETA, latest loss) and its final summary.
import type { RunView } from '../contract/runs.js';
import { formatDuration } from './format.js';

export type { RunProgress } from '../contract/runs.js';

/** The parts of a run (GET /v1/runs/:id, or an item of GET /v1/runs) the CLI shows. */
export type RunSummary = Pick<RunView, 'id' | 'status' | 'progress'> &
  Partial<
    Pick<RunView, 'name' | 'method' | 'error' | 'adapterFile' | 'adapterPath' | 'durationMs' | 'attempt'>
  >;

const fmtLoss = (v: number) => (Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(3) : v.toExponential(2));

export function progressBar(percent: number, width = 24): string {
  const filled = Math.max(0, Math.min(width, Math.round((percent / 100) * width)));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** "[##########..............]  8/20 iterations  40%  ETA 0:12  loss 1.234  val 1.301" */
export function progressLine(run: RunSummary, width = 24): string {
  const p = run.progress;
  if (run.status === 'queued') return `${run.id} queued, waiting for the worker`;
  if (run.status === 'interrupted') return `${run.id} interrupted; it resumes from its newest checkpoint`;
  if (p.iteration === null || !p.total) {
    return run.status === 'running'
      ? `${run.id} running, loading the model and data`
      : `${run.id} ${run.status}`;
  }
  const percent = p.percent ?? (100 * p.iteration) / p.total;
  const parts = [
    progressBar(percent, width),
    `${p.iteration}/${p.total} iterations`,
    `${Math.floor(percent)}%`,
  ];
  if (run.status === 'running')
    parts.push(`ETA ${p.etaSeconds === null ? '?' : formatDuration(p.etaSeconds)}`);
  if (p.latestLoss !== null) parts.push(`loss ${fmtLoss(p.latestLoss)}`);
  if (p.latestValLoss !== null) parts.push(`val ${fmtLoss(p.latestValLoss)}`);
  return parts.join('  ');
}

/** What changed enough to print a new line when the output is not a terminal. */
export function progressKey(run: RunSummary): string {
  const p = run.progress;
  return [run.status, p.iteration, p.total, p.latestLoss, p.latestValLoss].join('|');
}

/** "run_x succeeded in 0:42; adapters: /.../adapters.safetensors" or "run_x failed: <error>" */
export function finalLine(run: RunSummary): string {
  const took = run.durationMs ? ` in ${formatDuration(run.durationMs / 1000)}` : '';
  if (run.status === 'succeeded')
    return `${run.id} succeeded${took}; adapters: ${run.adapterFile ?? run.adapterPath ?? '(none)'}`;
  return `${run.id} ${run.status}${took}${run.error ? `: ${run.error}` : ''}`;
}
