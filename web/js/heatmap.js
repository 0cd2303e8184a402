// A heatmap of a sweep's metric over two varied parameters: one cell per combination, coloured from worse to better.
// @ts-check
import { formatNumber, formatValue, h } from './dom.js';

/**
 * A run as the sweep chart plots it: its varied values and the metric (null when not reported yet).
 * @typedef {{ runId: string, status: import('../../src/domain/run-status.js').RunStatus, values: Record<string, unknown>, value: number | null }} PlotRow
 */

const WORSE = [238, 242, 255];
const BETTER = [54, 79, 199];

/**
 * Distinct values of a parameter in a readable order: numbers ascending, anything else by its text.
 * @param {unknown[]} values
 * @returns {unknown[]} numbers, or values shown by their text
 */
export function axisValues(values) {
  const distinct = [...new Map(values.map((v) => [formatValue(v), v])).values()];
  const numbers = distinct.filter((v) => typeof v === 'number');
  return numbers.length === distinct.length
    ? numbers.sort((a, b) => a - b)
    : distinct.sort((a, b) => formatValue(a).localeCompare(formatValue(b)));
}

/** @param {number} goodness 0 (worse) to 1 (better) */
function colour(goodness) {
  const mix = WORSE.map((w, i) => Math.round(w + (BETTER[i] - w) * goodness));
  return `rgb(${mix.join(',')})`;
}

/**
 * rows: [{runId, status, values, value}] where value is the metric (null when not reported yet). Several runs
 * with the same pair of values (random search) share a cell, which shows the better one.
 * @param {{ xKey: string, yKey: string, rows: PlotRow[], goal: 'min' | 'max', bestRunId: string | undefined, metricLabel: string }} options
 */
export function heatmap({ xKey, yKey, rows, goal, bestRunId, metricLabel }) {
  const xs = axisValues(rows.map((r) => r.values[xKey]));
  const ys = axisValues(rows.map((r) => r.values[yKey]));
  /** @param {number} a @param {number} b */
  const better = (a, b) => (goal === 'max' ? a > b : a < b);
  /** @type {Map<string, PlotRow>} */
  const cells = new Map();
  for (const r of rows) {
    const key = `${formatValue(r.values[xKey])}\u0000${formatValue(r.values[yKey])}`;
    const current = cells.get(key);
    const v = Number.isFinite(r.value) ? r.value : null;
    if (
      !current ||
      r.runId === bestRunId ||
      (v !== null && current.runId !== bestRunId && (current.value === null || better(v, current.value)))
    )
      cells.set(key, { ...r, value: v });
  }
  const finite = [...cells.values()].map((c) => c.value).filter((v) => v !== null);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  /** @param {number} v */
  const goodnessOf = (v) => (hi === lo ? 1 : goal === 'max' ? (v - lo) / (hi - lo) : (hi - v) / (hi - lo));

  const grid = h('div', {
    class: 'heatmap',
    id: 'heatmap',
    style: `grid-template-columns: max-content repeat(${xs.length}, minmax(72px, 1fr))`,
  });
  grid.append(h('div', { class: 'corner' }, `${yKey} ↓  ${xKey} →`));
  for (const x of xs) grid.append(h('div', { class: 'axis' }, formatValue(x)));
  for (const y of ys) {
    grid.append(h('div', { class: 'axis row' }, formatValue(y)));
    for (const x of xs) {
      const c = cells.get(`${formatValue(x)}\u0000${formatValue(y)}`);
      if (!c) {
        grid.append(h('div', { class: 'cell none' }, '–'));
        continue;
      }
      const g = c.value === null ? null : goodnessOf(c.value);
      grid.append(
        h(
          'a',
          {
            class: `cell${c.value === null ? ' none' : ''}${g !== null && g > 0.55 ? ' dark' : ''}${c.runId === bestRunId ? ' best' : ''}`,
            href: `/ui/runs/${encodeURIComponent(c.runId)}`,
            style: g === null ? null : `background:${colour(g)}`,
            title: `${xKey}=${formatValue(x)}, ${yKey}=${formatValue(y)}: ${metricLabel} ${formatNumber(c.value)} (${c.status})`,
            'data-run-id': c.runId,
          },
          c.runId === bestRunId ? `★ ${formatNumber(c.value)}` : formatNumber(c.value),
          c.status === 'succeeded' ? null : h('small', {}, c.status),
        ),
      );
    }
  }
  const legend = finite.length
    ? h(
        'div',
        { class: 'legend-scale' },
        h('span', {}, `worse ${formatNumber(goal === 'max' ? lo : hi)}`),
        h('span', { class: 'bar', style: `background: linear-gradient(90deg, ${colour(0)}, ${colour(1)})` }),
        h('span', {}, `better ${formatNumber(goal === 'max' ? hi : lo)}`),
      )
    : h('p', { class: 'sub' }, `No run has reported ${metricLabel} yet.`);
  return h('div', {}, grid, legend);
}
