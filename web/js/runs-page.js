// /ui: the run list with filters (status, method, model, tag), search by name, live status by polling, and ticking
// 2-8 runs to open them on the compare page.
// @ts-check
/* global document, location, history, URLSearchParams, setTimeout, clearTimeout */
import { api, poll, query } from './api.js';
import { CompareSelection } from './compare-selection.js';
import { fill, formatDuration, formatNumber, h, progressBar, statusBadge, timeAgo } from './dom.js';
import { STATUS_ORDER } from './generated/domain.js';
import { errorBanner, mountShell } from './layout.js';

/** @typedef {import('../../src/contract/runs.js').RunList} RunList */
/** @typedef {import('../../src/contract/runs.js').RunSummary} RunSummary */

const PAGE = 100;
/** A name search reads at most this many runs (newest first); the API filters by everything else. */
const SEARCH_SCAN_LIMIT = 2000;
const REFRESH_MS = 3000;

const main = mountShell('runs', 'Runs');
const params = new URLSearchParams(location.search);
const filters = {
  status: params.get('status') ?? '',
  method: params.get('method') ?? '',
  model: params.get('model') ?? '',
  tag: params.get('tag') ?? '',
  sweep: params.get('sweep') ?? '',
  q: params.get('q') ?? '',
};
/** @type {RunSummary[]} */
let items = [];
let nextCursor = null;
let loading = false;
/** Ticked runs survive the live refresh, filter changes and paging: the selection is by id, not by row. */
const selection = new CompareSelection(() => render());

const banner = h('div');
const summary = h('span', { class: 'sub', id: 'summary' });
const tableHost = h('div');
const moreButton = h('button', { type: 'button', onclick: () => void loadMore() }, 'Load more');
const methodSelect = h('select', { name: 'method' }, h('option', { value: '' }, 'any method'));

main.append(
  h(
    'div',
    { class: 'page-head' },
    h('h1', {}, 'Runs'),
    summary,
    h('span', { class: 'spacer' }),
    h('a', { class: 'button primary', href: '/ui/submit' }, 'New run'),
  ),
  filterBar(),
  banner,
  tableHost,
  h('p', {}, moreButton),
);

function filterBar() {
  const field = (label, control) => h('label', {}, label, control);
  const text = (key, placeholder) => {
    const input = h('input', {
      type: key === 'q' ? 'search' : 'text',
      name: key,
      value: filters[key],
      placeholder,
    });
    input.addEventListener(
      'input',
      debounce(() => setFilter(key, input.value.trim()), 300),
    );
    return input;
  };
  const status = h(
    'select',
    { name: 'status' },
    h('option', { value: '' }, 'any status'),
    STATUS_ORDER.map((s) => h('option', { value: s, selected: s === filters.status }, s)),
  );
  status.addEventListener('change', () => setFilter('status', status.value));
  methodSelect.addEventListener('change', () => setFilter('method', methodSelect.value));
  return h(
    'form',
    { class: 'filters', role: 'search', onsubmit: (e) => e.preventDefault() },
    field('Search by name', text('q', 'name or id')),
    field('Status', status),
    field('Method', methodSelect),
    field('Model', text('model', 'exact model id')),
    field('Tag', text('tag', 'tag')),
    filters.sweep ? field('Sweep', text('sweep', 'sweep id')) : null,
  );
}

function debounce(fn, ms) {
  let t;
  return () => {
    clearTimeout(t);
    t = setTimeout(fn, ms);
  };
}

function setFilter(key, value) {
  filters[key] = value;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
  history.replaceState(null, '', `${location.pathname}${q.size ? `?${q}` : ''}`);
  void reload();
}

function apiQuery(cursor, limit = PAGE) {
  // The name search is not an API filter: it runs over the pages read (see matchesSearch).
  const { status, method, model, tag, sweep } = filters;
  return `/v1/runs${query({ status, method, model, tag, sweep, limit, cursor })}`;
}

/** @param {RunSummary} run */
function matchesSearch(run) {
  const q = filters.q.toLowerCase();
  return !q || (run.name ?? '').toLowerCase().includes(q) || run.id.toLowerCase().includes(q);
}

/** Loads from the first page again; with a search, keeps reading pages until enough runs match. */
async function reload() {
  items = [];
  nextCursor = null;
  await loadMore(true);
}

async function loadMore(first = false) {
  if (loading) return;
  loading = true;
  try {
    let scanned = 0;
    let cursor = first ? undefined : nextCursor;
    do {
      const page = /** @type {RunList} */ (await api(apiQuery(cursor)));
      items.push(...page.items);
      scanned += page.items.length;
      cursor = nextCursor = page.nextCursor;
    } while (filters.q && cursor && items.filter(matchesSearch).length < 50 && scanned < SEARCH_SCAN_LIMIT);
    fill(banner);
    render();
  } catch (err) {
    fill(banner, errorBanner(err));
  } finally {
    loading = false;
  }
}

/** Live status: re-reads the runs already shown (new ones appear on top, changed ones update in place). */
async function refresh() {
  if (loading || document.hidden) return;
  const limit = Math.min(500, Math.max(PAGE, items.length));
  const page = /** @type {RunList} */ (await api(apiQuery(undefined, limit)));
  if (loading) return;
  items = page.items.concat(items.length > limit ? items.slice(limit) : []);
  if (items.length <= limit) nextCursor = page.nextCursor;
  fill(banner);
  render();
}

function render() {
  const shown = items.filter(matchesSearch);
  const active = items.filter((r) => r.status === 'running' || r.status === 'queued').length;
  fill(
    summary,
    `${shown.length} shown${filters.q ? ` of ${items.length} read` : ''}${active ? ` · ${active} queued or running` : ''}`,
  );
  moreButton.hidden = !nextCursor;
  if (shown.length === 0) {
    fill(
      tableHost,
      h(
        'div',
        { class: 'card empty' },
        items.length ? 'No run matches the search.' : 'No runs yet. ',
        items.length ? null : h('a', { href: '/ui/submit' }, 'Submit the first one.'),
      ),
    );
    return;
  }
  const head = [
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
  fill(
    tableHost,
    h('div', { class: 'table-actions' }, selection.link()),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'data', id: 'runs-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { 'aria-label': 'compare' }, ''),
            head.map((t) => h('th', { class: t.includes('oss') ? 'num' : null }, t)),
          ),
        ),
        h('tbody', {}, shown.map(row)),
      ),
    ),
  );
}

/** @param {RunSummary} run */
function row(run) {
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

function shortModel(model) {
  const parts = String(model).split('/');
  return parts.length > 2 ? `…/${parts.slice(-2).join('/')}` : model;
}

async function loadMethods() {
  try {
    const { methods } = /** @type {import('../../src/contract/methods.js').MethodCatalogue} */ (
      await api('/v1/methods')
    );
    methodSelect.append(
      ...methods.map((m) =>
        h('option', { value: m.method, selected: m.method === filters.method }, `${m.method} · ${m.title}`),
      ),
    );
    methodSelect.value = filters.method;
  } catch (err) {
    fill(banner, errorBanner(err));
  }
}

await Promise.all([loadMethods(), reload()]);
poll(refresh, REFRESH_MS, (err) => fill(banner, errorBanner(err)));
