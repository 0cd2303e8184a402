// GET /v1/sweeps/:id?format=csv: a sweep's results as a spreadsheet, one line per run.
import type { FinalAndBest as FinalBest, SweepDetail } from '../contract/sweeps.js';

/** A spreadsheet cell: quoted when needed; text that a spreadsheet would run as a formula is prefixed with '. */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** GET /v1/sweeps/:id?format=csv: one line per run, in sweep order, varied parameters as columns. */
export function sweepCsv(detail: SweepDetail): string {
  const params = [...new Set(detail.runs.flatMap((r) => Object.keys(r.values)))];
  const grpo = detail.runs.some((r) => r.meanReward !== null);
  const m = detail.metric;
  const objective = `${m.split}_${m.name}`.replace(/[^\w]+/g, '_');
  const head = [
    'index',
    'run_id',
    'status',
    ...params,
    `${objective}_final`,
    `${objective}_best`,
    'train_loss_final',
    'train_loss_best',
    'val_loss_final',
    'val_loss_best',
  ];
  if (grpo) head.push('mean_reward_final', 'mean_reward_best');
  const evaluated = detail.runs.some((r) => r.evaluation !== null);
  if (evaluated) head.push('test_loss', 'test_ppl');
  head.push('iteration', 'total_iterations', 'duration_ms', 'stop_reason', 'is_best');
  const lines = [head.map(cell).join(',')];
  for (const r of detail.runs) {
    const pair = (fb: FinalBest | null) => [fb?.final?.value, fb?.best?.value];
    const row: unknown[] = [
      r.index,
      r.runId,
      r.status,
      ...params.map((p) => r.values[p]),
      ...pair(r.objective),
      ...pair(r.trainLoss),
      ...pair(r.valLoss),
    ];
    if (grpo) row.push(...pair(r.meanReward));
    if (evaluated) row.push(r.evaluation?.testLoss, r.evaluation?.testPpl);
    row.push(
      r.progress.iteration,
      r.progress.total,
      r.durationMs,
      r.stopReason,
      detail.best?.runId === r.runId,
    );
    lines.push(row.map(cell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
