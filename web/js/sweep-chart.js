// The sweep page's chart: a heatmap over two varied parameters, else the metric over each varied parameter.
// @ts-check
import { LineChart } from './charts.js';
import { fill, formatValue, h } from './dom.js';
import { axisValues, heatmap } from './heatmap.js';
import { metricLabel, objective, sweepParams } from './sweep-table.js';

/** @typedef {import('../../src/contract/sweeps.js').SweepDetail} SweepDetail */
/** @typedef {import('./heatmap.js').PlotRow} PlotRow */

export class SweepChart {
  constructor() {
    this.el = h('section', { class: 'card', id: 'sweep-chart' });
    /** @type {ReturnType<typeof chartFor>[]} */
    this.charts = [];
    this.shape = '';
  }

  /** @param {SweepDetail} sweep */
  render(sweep) {
    const ps = sweepParams(sweep);
    const m = sweep.metric;
    const label = metricLabel(m);
    /** @type {PlotRow[]} */
    const rows = sweep.runs.map((r) => ({
      runId: r.runId,
      status: r.status,
      values: r.values ?? {},
      value: objective(r),
    }));
    if (ps.length === 2) {
      fill(
        this.el,
        h('h2', {}, `${label} over ${ps[0]} and ${ps[1]}`),
        heatmap({
          xKey: ps[0],
          yKey: ps[1],
          rows,
          goal: m.goal,
          bestRunId: sweep.best?.runId,
          metricLabel: label,
        }),
      );
      return;
    }
    if (ps.length === 0) {
      fill(this.el, h('h2', {}, label), h('p', { class: 'sub' }, 'This sweep varies no parameter.'));
      return;
    }
    const shape = ps.join('\u0000');
    if (shape !== this.shape) {
      this.charts.forEach((c) => c.destroy());
      this.charts = ps.map((p) => chartFor(p, rows, sweep));
      this.shape = shape;
      fill(
        this.el,
        h('h2', {}, `${label} over ${ps.join(', ')}`),
        h(
          'div',
          { class: 'charts' },
          this.charts.map((c) => c.chart.el),
        ),
      );
    }
    for (const c of this.charts) c.update(rows, sweep);
  }
}

/**
 * metric against one parameter: numbers on a numeric axis (log when they span decades), anything else as categories.
 * @param {string} param @param {PlotRow[]} rows @param {SweepDetail} sweep
 */
function chartFor(param, rows, sweep) {
  const values = axisValues(rows.map((r) => r.values[param]));
  const numbers = values.filter((v) => typeof v === 'number');
  const numeric = numbers.length === values.length;
  const logX = numeric && numbers[0] > 0 && numbers[numbers.length - 1] / numbers[0] >= 100;
  const categories = numeric ? null : values.map(formatValue);
  const chart = new LineChart({
    title: param,
    key: `param-${param}`,
    xLabel: param,
    categories,
    logX,
    points: true,
  });
  /** @param {unknown} v a parameter value (a number on a numeric axis) @returns {number} */
  const xOf = (v) => (categories ? categories.indexOf(formatValue(v)) : Number(v));
  const single = sweepParams(sweep).length === 1;
  return {
    chart,
    destroy: () => chart.destroy(),
    /** @param {PlotRow[]} rs @param {SweepDetail} current */
    update(rs, current) {
      const points = rs
        .filter((r) => r.value !== null && r.values[param] !== undefined)
        .map((r) => /** @type {[number, number | null]} */ ([xOf(r.values[param]), r.value]));
      const best = rs
        .filter((r) => r.runId === current.best?.runId && r.value !== null)
        .map((r) => /** @type {[number, number | null]} */ ([xOf(r.values[param]), r.value]));
      chart.update([
        { label: metricLabel(current.metric), points, pointsOnly: !single },
        { label: 'best run', points: best, pointsOnly: true, color: '#2b8a3e' },
      ]);
    },
  };
}
