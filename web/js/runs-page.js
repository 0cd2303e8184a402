// /ui: the run list with filters (status, method, model, tag), search by name, live status by polling, and ticking
// 2-8 runs to open them on the compare page.
// @ts-check
/* global document, location, history, URLSearchParams, setTimeout, clearTimeout */
import { api, poll, query } from './api.js';
import { CompareSelection } from './compare-selection.js';
import { fill, h } from './dom.js';
import { STATUS_ORDER } from './generated/domain.js';
import { errorBanner, mountShell } from './layout.js';
import { runsTable } from './runs-table.js';

/** @typedef {import('../../src/contract/runs.js').RunList} RunList */
/** @typedef {import('../../src/contract/runs.js').RunSummary} RunSummary */

const PAGE = 100;
/** A name search reads at most this many runs (newest first); the API filters by everything else. */
const SEARCH_SCAN_LIMIT = 2000;
const REFRESH_MS = 3000;

const main = mountShell('runs', 'Runs');
const params = new URLSearchParams(location.search);
/** @typedef {'status' | 'method' | 'model' | 'tag' | 'sweep' | 'q'} FilterKey */
/** @type {Record<FilterKey, string>} */
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
/** @type {RunList['nextCursor']} */
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
  /**
   * @param {string} label
   * @param {HTMLElement} control
   */
  const field = (label, control) => h('label', {}, label, control);
  /**
   * @param {FilterKey} key
   * @param {string} placeholder
   */
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

/**
 * @param {() => void} fn
 * @param {number} ms
 */
function debounce(fn, ms) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let t;
  return () => {
    clearTimeout(t);
    t = setTimeout(fn, ms);
  };
}

/**
 * @param {FilterKey} key
 * @param {string} value
 */
function setFilter(key, value) {
  filters[key] = value;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
  history.replaceState(null, '', `${location.pathname}${q.size ? `?${q}` : ''}`);
  void reload();
}

/**
 * @param {string | null | undefined} cursor
 * @param {number} [limit]
 */
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
  fill(tableHost, h('div', { class: 'table-actions' }, selection.link()), runsTable(shown, selection));
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
