// The run list's table (/ui): one row per run with its status, progress, losses, times and tags, and a tick for
// the compare page.
// @ts-check
import { dataTable, formatDuration, formatNumber, h, progressBar, statusBadge, timeAgo } from './dom.js';

/** @typedef {import('../../src/contract/runs.js').RunSummary} RunSummary */
/** @typedef {import('./compare-selection.js').CompareSelection} CompareSelection */

const HEAD = [
  'Status',
  'Name',
  'Method',
  'Model',
  'Progress',
  'Loss',
  'Val loss',
  'Created',
  'Duration',
  'Tags',
];

/**
 * @param {RunSummary[]} runs
 * @param {CompareSelection} selection the ticks for /ui/compare, kept across renders
 */
export function runsTable(runs, selection) {
  return h(
    'div',
    { class: 'table-wrap' },
    dataTable(
      [
        h('th', { 'aria-label': 'compare' }, ''),
        ...HEAD.map((t) => h('th', { class: t.includes('oss') ? 'num' : null }, t)),
      ],
      runs.map((run) => row(run, selection)),
      { id: 'runs-table' },
    ),
  );
}

/**
 * @param {RunSummary} run
 * @param {CompareSelection} selection
 */
function row(run, selection) {
  const p = run.progress ?? {};
  const duration =
    run.durationMs != null
      ? run.durationMs / 1000
      : run.startedAt && run.status === 'running'
        ? (Date.now() - Date.parse(run.startedAt)) / 1000
        : null;
  return h(
    'tr',
    { 'data-run-id': run.id, 'data-status': run.status },
    h('td', {}, selection.checkbox(run.id, run.name || run.id)),
    h('td', {}, statusBadge(run.status)),
    h(
      'td',
      { class: 'name-cell' },
      h('a', { href: `/ui/runs/${encodeURIComponent(run.id)}` }, run.name || run.id),
      run.name ? h('span', { class: 'id' }, run.id) : null,
      run.sweepId
        ? h(
            'a',
            { class: 'chip', href: `/ui/sweeps/${encodeURIComponent(run.sweepId)}` },
            `sweep #${run.sweepIndex ?? 0}`,
          )
        : null,
    ),
    h('td', {}, run.method),
    h('td', { class: 'mono', title: run.model }, shortModel(run.model)),
    h(
      'td',
      {},
      h(
        'div',
        { class: 'cell-progress' },
        progressBar(p.percent, { done: run.status === 'succeeded' }),
        p.total ? `${p.iteration ?? 0} / ${p.total}` : '',
      ),
    ),
    h('td', { class: 'num' }, formatNumber(p.latestLoss)),
    h('td', { class: 'num' }, formatNumber(p.latestValLoss)),
    h('td', { title: run.createdAt }, timeAgo(run.createdAt)),
    h('td', {}, formatDuration(duration)),
    h(
      'td',
      {},
      (run.tags ?? []).map((t) => h('a', { class: 'chip', href: `/ui?tag=${encodeURIComponent(t)}` }, t)),
    ),
  );
}

/** @param {string} model */
function shortModel(model) {
  const parts = String(model).split('/');
  return parts.length > 2 ? `…/${parts.slice(-2).join('/')}` : model;
}
