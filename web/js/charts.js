// uPlot line charts sized to their card: metric curves over iterations and sweep metrics over a varied parameter.
// @ts-check
/* global ResizeObserver */
import uPlot from '/ui/vendor/uplot/uPlot.esm.js';

import { formatNumber, h } from './dom.js';

export const PALETTE = [
  '#3b5bdb',
  '#e8590c',
  '#2b8a3e',
  '#ae3ec9',
  '#0c8599',
  '#c92a2a',
  '#5c940d',
  '#862e9c',
  '#d9480f',
  '#1864ab',
];
const HEIGHT = 220;

/**
 * One line (or, with pointsOnly, a scatter) of a chart: [x, y] points, y null where there is no value.
 * @typedef {{ label: string, color?: string, dash?: number[], pointsOnly?: boolean, points: [number, number | null][] }} Series
 */

/**
 * Puts series given as [{label, points: [[x, y], …]}] on one sorted x axis, with null where a series has no
 * value at that x (uPlot wants aligned columns; spanGaps draws across the nulls).
 * @param {Series[]} series
 */
export function alignSeries(series) {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const columns = series.map((s) => {
    /** @type {(number | null)[]} */
    const ys = new Array(xs.length).fill(null);
    for (const [x, y] of s.points) {
      const i = index.get(x);
      if (i !== undefined) ys[i] = Number.isFinite(y) ? y : null;
    }
    return ys;
  });
  return /** @type {import('uplot').AlignedData} */ ([xs, ...columns]);
}

/** @param {import('uplot').Axis} [extra] */
function axisStyle(extra = {}) {
  return {
    stroke: '#667085',
    grid: { stroke: '#eef0f3', width: 1 },
    ticks: { stroke: '#e3e6eb', width: 1 },
    font: '11px system-ui, sans-serif',
    ...extra,
  };
}

/** A card holding one uPlot chart; update() redraws with new points and rebuilds when the series change. */
export class LineChart {
  /** @param {{ title: string, key: string, xLabel?: string, categories?: string[] | null, logX?: boolean, points?: boolean | 'auto' }} options */
  constructor({ title, key, xLabel = 'iteration', categories = null, logX = false, points = 'auto' }) {
    this.title = title;
    this.xLabel = xLabel;
    this.categories = categories;
    this.logX = logX;
    this.points = points;
    /** @type {uPlot | null} */
    this.plot = null;
    this.labels = '';
    this.body = h('div', { class: 'chart-body' });
    this.el = h(
      'section',
      { class: 'chart-card', 'data-chart': key ?? title },
      h('h2', {}, title),
      this.body,
    );
    this.observer = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: HEIGHT }));
    this.observer.observe(this.body);
  }

  width() {
    return Math.max(260, this.body.clientWidth || 400);
  }

  /** @param {Series[]} series */
  update(series) {
    const labels = series.map((s) => s.label).join('\u0000');
    const data = alignSeries(series);
    if (this.plot && labels === this.labels) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.labels = labels;
    this.plot = new uPlot(this.options(series, data[0].length), data, this.body);
  }

  /**
   * @param {Series[]} series
   * @param {number} n how many x values
   * @returns {import('uplot').Options}
   */
  options(series, n) {
    const showPoints = this.points === 'auto' ? n <= 40 : this.points;
    /** @type {import('uplot').Axis} */
    const x = { label: this.xLabel, ...axisStyle() };
    /** @type {import('uplot').Scale} */
    const scaleX = { time: false };
    if (this.categories) {
      const cats = this.categories;
      scaleX.range = () => [-0.5, cats.length - 0.5];
      x.splits = () => cats.map((_, i) => i);
      x.values = (_u, splits) => splits.map((i) => cats[i] ?? '');
    } else if (this.xLabel === 'iteration') {
      // Iterations are whole numbers: no 0.1 steps on a chart of a run that has just started.
      x.incrs = [
        1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 100000,
      ];
    } else if (this.logX) {
      scaleX.distr = 3;
      // uPlot's log axis leaves the splits it does not label as null.
      x.values = (_u, splits) => splits.map((v) => (v == null ? '' : formatNumber(v)));
    }
    return {
      width: this.width(),
      height: HEIGHT,
      scales: { x: scaleX },
      legend: { live: true },
      cursor: { drag: { x: true, y: false } },
      axes: [
        x,
        {
          ...axisStyle({ size: 56 }),
          values: (_u, splits) => splits.map((v) => (v == null ? '' : formatNumber(v))),
        },
      ],
      series: [
        {
          label: this.xLabel,
          value: (_u, v) => (v == null ? '–' : this.categories ? (this.categories[v] ?? v) : formatNumber(v)),
        },
        ...series.map(
          /** @returns {import('uplot').Series} */
          (s, i) => ({
            label: s.label,
            stroke: s.color ?? PALETTE[i % PALETTE.length],
            width: 2,
            dash: s.dash,
            spanGaps: true,
            points: { show: s.pointsOnly ? true : showPoints, size: s.pointsOnly ? 8 : 5 },
            paths: s.pointsOnly ? () => null : undefined,
            value: (_u, v) => formatNumber(v),
          }),
        ),
      ],
    };
  }

  destroy() {
    this.observer.disconnect();
    this.plot?.destroy();
  }
}
