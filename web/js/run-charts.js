// The run page's charts: which trainer metrics go on which chart, and keeping them in step with new points.
// @ts-check
import { LineChart } from './charts.js';
import { fill, h } from './dom.js';

/** @typedef {import('../../src/contract/runs.js').MetricRow} MetricRow */

/**
 * Each chart takes the metrics its `pick` accepts; a chart with no points yet is not shown.
 * @type {{ key: string, title: string, pick: (p: MetricRow) => boolean }[]}
 */
export const CHARTS = [
  { key: 'loss', title: 'Loss', pick: (p) => p.name === 'loss' && p.split !== 'test' },
  {
    key: 'rewards',
    title: 'Rewards',
    pick: (p) => p.split !== 'test' && /reward/.test(p.name) && !/(_std|\/std|\/coverage)$/.test(p.name),
  },
  {
    key: 'kl',
    title: 'KL divergence',
    pick: (p) => p.split !== 'test' && (p.name === 'kl' || p.name === 'kl_penalty'),
  },
  {
    key: 'preference',
    title: 'Accuracy and margin',
    pick: (p) => p.split !== 'test' && ['accuracy', 'margin', 'chosen_win', 'margin_win'].includes(p.name),
  },
  {
    key: 'tokens',
    title: 'Tokens per second',
    pick: (p) => p.split === 'train' && p.name === 'tokens_per_sec',
  },
  {
    key: 'memory',
    title: 'Peak memory (GB)',
    pick: (p) => p.split === 'train' && p.name === 'peak_memory_gb',
  },
];

/** @param {MetricRow} p */
const seriesLabel = (p) =>
  `${p.split === 'val' ? 'val ' : p.split === 'test' ? 'test ' : p.name === 'loss' ? 'train ' : ''}${p.name}`;

/** Holds every point once (keyed by split, name and iteration) and renders the chart grid. */
export class RunCharts {
  constructor() {
    /** @type {Map<string, MetricRow>} */
    this.points = new Map();
    /** @type {Map<string, LineChart>} */
    this.charts = new Map();
    this.lastIteration = 0;
    this.el = h('div', { class: 'charts', id: 'charts' });
    this.placeholder = h(
      'div',
      { class: 'card empty', id: 'charts-empty' },
      'Charts appear when the trainer reports its first metrics.',
    );
    this.el.append(this.placeholder);
  }

  /** Adds points (a re-read of the same iteration replaces the old value) and redraws. */
  /** @param {import('../../src/contract/runs.js').MetricRow[]} points */
  add(points) {
    for (const p of points) {
      this.points.set(`${p.split}\u0000${p.name}\u0000${p.iteration}`, p);
      if (p.iteration > this.lastIteration) this.lastIteration = p.iteration;
    }
    if (points.length > 0) this.render();
  }

  render() {
    const all = [...this.points.values()];
    for (const spec of CHARTS) {
      /** @type {Map<string, import('./charts.js').Series>} */
      const bySeries = new Map();
      for (const p of all) {
        if (!spec.pick(p) || p.value === null) continue;
        const label = seriesLabel(p);
        let line = bySeries.get(label);
        if (!line) {
          line = { label, dash: p.split === 'val' ? [6, 4] : undefined, points: [] };
          bySeries.set(label, line);
        }
        line.points.push([p.iteration, p.value]);
      }
      if (bySeries.size === 0) continue;
      let chart = this.charts.get(spec.key);
      if (!chart) {
        chart = new LineChart({ title: spec.title, key: spec.key });
        this.charts.set(spec.key, chart);
        this.el.append(chart.el);
      }
      const series = [...bySeries.values()].sort((a, b) => a.label.localeCompare(b.label));
      chart.update(series);
    }
    if (this.charts.size > 0) this.placeholder.remove();
    else fill(this.placeholder, 'Charts appear when the trainer reports its first metrics.');
  }
}
