// The sweep page's table: one row per run with its varied values and metrics, sortable by any column, best run marked.
// @ts-check
import { CompareSelection } from './compare-selection.js';
import {
  dataTable,
  fill,
  formatDuration,
  formatNumber,
  formatValue,
  h,
  progressBar,
  statusBadge,
} from './dom.js';

/** @typedef {import('../../src/contract/sweeps.js').SweepDetail} SweepDetail */
/** @typedef {SweepDetail['runs'][number]} SweepRunRow */
/** @typedef {SweepRunRow['objective']} FinalAndBest */
/**
 * A column: key for sorting, header text, how to read and show the cell.
 * @typedef {{ key: string, label: string, num?: boolean, mono?: boolean, get: (r: SweepRunRow) => unknown, show: (r: SweepRunRow) => import('./dom.js').Child }} Column
 */

/** @param {{ split: string, name: string }} m */
export const metricLabel = (m) => `${m.split} ${m.name}`;
/** @param {SweepDetail} sweep */
export const sweepParams = (sweep) => [...new Set(sweep.runs.flatMap((r) => Object.keys(r.values ?? {})))];
/** @param {SweepRunRow} r */
export const objective = (r) => r.objective?.final?.value ?? null;

export class SweepTable {
  constructor() {
    this.el = h('div', { id: 'sweep-table' });
    this.sort = { key: 'index', dir: 1 };
    /** @type {SweepDetail | null} */
    this.sweep = null;
    /** Runs ticked for /ui/compare (2 to 8). */
    this.selection = new CompareSelection(() => this.rerender());
  }

  /** Renders the sweep shown last again (after a tick or a sort). */
  rerender() {
    if (this.sweep) this.render(this.sweep);
  }

  /** @param {SweepDetail} sweep */
  render(sweep) {
    this.sweep = sweep;
    const cols = columns(sweep);
    const col = cols.find((c) => c.key === this.sort.key) ?? cols[0];
    const dir = this.sort.dir;
    const rows = [...sweep.runs].sort((a, b) => compare(col.get(a), col.get(b), dir) || a.index - b.index);
    /** @param {Column} c */
    const th = (c) =>
      h(
        'th',
        {
          class: `sortable${c.num ? ' num' : ''}`,
          'data-sort-key': c.key,
          'aria-sort': c.key === this.sort.key ? (dir > 0 ? 'ascending' : 'descending') : null,
          onclick: () => {
            this.sort = { key: c.key, dir: c.key === this.sort.key ? -dir : 1 };
            this.rerender();
          },
        },
        c.label,
      );
    /** @param {SweepRunRow} r */
    const tr = (r) =>
      h(
        'tr',
        {
          class: r.runId === sweep.best?.runId ? 'best' : null,
          'data-run-id': r.runId,
          'data-status': r.status,
        },
        h('td', {}, this.selection.checkbox(r.runId, r.name ?? r.runId)),
        cols.map((c) =>
          h('td', { class: [c.num ? 'num' : '', c.mono ? 'mono' : ''].join(' ').trim() || null }, c.show(r)),
        ),
      );
    fill(
      this.el,
      h('div', { class: 'table-actions' }, this.selection.link()),
      h('div', { class: 'table-wrap' }, dataTable(['', ...cols.map(th)], rows.map(tr))),
    );
  }
}

/**
 * A metric column: its final value, sortable.
 * @param {string} key @param {string} label @param {(r: SweepRunRow) => FinalAndBest | null} pick
 * @returns {Column}
 */
const metricColumn = (key, label, pick) => ({
  key,
  label,
  num: true,
  get: (r) => pick(r)?.final?.value,
  show: (r) => formatNumber(pick(r)?.final?.value),
});

/**
 * Table columns: key for sorting, header text, how to read and show the cell.
 * @param {SweepDetail} sweep
 */
function columns(sweep) {
  const m = sweep.metric;
  /** @type {Column[]} */
  const cols = [
    { key: 'index', label: '#', num: true, get: (r) => r.index, show: (r) => r.index },
    { key: 'name', label: 'Run', get: (r) => r.name ?? r.runId, show: (r) => runCell(r, sweep) },
    { key: 'status', label: 'Status', get: (r) => r.status, show: (r) => statusBadge(r.status) },
    ...sweepParams(sweep).map(
      /** @returns {Column} */ (p) => ({
        key: `param:${p}`,
        label: p,
        num: true,
        mono: true,
        get: (r) => r.values?.[p],
        show: (r) => formatValue(r.values?.[p]),
      }),
    ),
    metricColumn('objective', `${metricLabel(m)} (final)`, (r) => r.objective),
    {
      key: 'objectiveBest',
      label: `best (${m.goal})`,
      num: true,
      get: (r) => r.objective?.best?.value,
      show: (r) => formatNumber(r.objective?.best?.value),
    },
  ];
  // The sweep's metric has its own column; train loss, val loss and GRPO's mean reward are shown beside it.
  if (!(m.name === 'loss' && m.split === 'train'))
    cols.push(metricColumn('trainLoss', 'train loss', (r) => r.trainLoss));
  if (!(m.name === 'loss' && m.split === 'val'))
    cols.push(metricColumn('valLoss', 'val loss', (r) => r.valLoss));
  if (sweep.runs.some((r) => r.meanReward))
    cols.push(metricColumn('reward', 'mean reward', (r) => r.meanReward));
  // After training: the evaluate jobs' test loss and perplexity.
  if (sweep.runs.some((r) => r.evaluation)) {
    /** @param {string} key @param {string} label @param {'testLoss' | 'testPpl'} field @returns {Column} */
    const evalColumn = (key, label, field) => ({
      key,
      label,
      num: true,
      get: (r) => r.evaluation?.[field],
      show: (r) => formatNumber(r.evaluation?.[field]),
    });
    cols.push(evalColumn('testLoss', 'test loss', 'testLoss'), evalColumn('testPpl', 'test ppl', 'testPpl'));
  }
  cols.push(
    {
      key: 'progress',
      label: 'Progress',
      get: (r) => (r.progress?.total ? (r.progress.iteration ?? 0) / r.progress.total : null),
      show: progressCell,
    },
    {
      key: 'duration',
      label: 'Duration',
      num: true,
      get: (r) => r.durationMs,
      show: (r) => formatDuration(r.durationMs != null ? r.durationMs / 1000 : null),
    },
  );
  return cols;
}

/** @param {SweepRunRow} r @param {SweepDetail} sweep */
function runCell(r, sweep) {
  return h(
    'span',
    { class: 'name-cell' },
    h('a', { href: `/ui/runs/${encodeURIComponent(r.runId)}` }, r.name || r.runId),
    r.name ? h('span', { class: 'id' }, r.runId) : null,
    r.runId === sweep.best?.runId ? h('span', { class: 'chip', id: 'best-chip' }, '★ best') : null,
  );
}

/** @param {SweepRunRow} r */
function progressCell(r) {
  const p = r.progress ?? { iteration: null, total: null };
  return h(
    'div',
    { class: 'cell-progress' },
    progressBar(p.total ? (100 * (p.iteration ?? 0)) / p.total : 0, { done: r.status === 'succeeded' }),
    p.total ? `${p.iteration ?? 0} / ${p.total}` : '',
  );
}

/**
 * Nulls sort last either way; numbers as numbers, the rest as text.
 * @param {unknown} a @param {unknown} b @param {number} dir
 */
function compare(a, b, dir) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return (a - b) * dir;
  return formatValue(a).localeCompare(formatValue(b), undefined, { numeric: true }) * dir;
}
