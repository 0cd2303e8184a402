// DOM building and display formatting shared by every page; text always goes in as text nodes, never as HTML.
// @ts-check
/* global document, Node */

/** A child of h() and fill(): nodes as they are, text as a text node; false, null and undefined are skipped. */
/** @typedef {import('./dom-types.js').Child} Child */
/** An attribute of h(): `on…` keys take listeners; false, null and undefined leave the attribute out. */
/** @typedef {string | number | boolean | null | undefined | ((event: Event) => void)} AttrValue */

/**
 * h('a', {href: '/x', class: 'y'}, 'text', child) builds an element. Attributes starting with "on" become
 * listeners; false, null and undefined attributes and children are skipped.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, AttrValue> | null} [attrs]
 * @param {...Child} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value' || key === 'checked' || key === 'selected') Object.assign(el, { [key]: value });
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/**
 * @param {Element} el
 * @param {readonly Child[]} children
 */
function append(el, children) {
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * Replaces an element's children.
 * @template {Element} E
 * @param {E} el
 * @param {...Child} children
 * @returns {E}
 */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * A `table.data`: one header row, then the body rows. A header cell given as text becomes a plain th; a th
 * element (one with attributes) goes in as it is.
 * @param {readonly (string | HTMLTableCellElement)[]} head
 * @param {Child} rows the body's tr elements
 * @param {Record<string, AttrValue>} [attrs] the table's other attributes (a class replaces "data")
 */
export function dataTable(head, rows, attrs = {}) {
  return h(
    'table',
    { class: 'data', ...attrs },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        head.map((c) => (typeof c === 'string' ? h('th', {}, c) : c)),
      ),
    ),
    h('tbody', {}, rows),
  );
}

/**
 * A `dl.kv` of labels and values, each value as text in monospace.
 * @param {readonly (readonly [string, unknown])[]} rows
 */
export function kvList(rows) {
  return h(
    'dl',
    { class: 'kv' },
    rows.map(([k, v]) => [h('dt', {}, k), h('dd', { class: 'mono' }, String(v))]),
  );
}

/**
 * A figure under its label, for a `div.stats` row.
 * @param {string} label
 * @param {Child} value
 * @param {string} id the value's id
 * @param {string | null} [title] a tooltip on the figure
 */
export function stat(label, value, id, title = null) {
  return h(
    'div',
    { class: 'stat', title },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value', id }, value),
  );
}

/** @param {string} status */
export function statusBadge(status) {
  return h('span', { class: `status ${status}`, 'data-status': status }, status);
}

/**
 * @param {number | null | undefined} percent
 * @param {{ big?: boolean, done?: boolean }} [options]
 */
export function progressBar(percent, { big = false, done = false } = {}) {
  const p = Math.max(0, Math.min(100, percent ?? 0));
  const bar = h('div', {
    class: `progress${big ? ' big' : ''}${done ? ' done' : ''}`,
    role: 'progressbar',
    'aria-valuemin': 0,
    'aria-valuemax': 100,
    'aria-valuenow': Math.round(p),
  });
  bar.append(h('span', { style: `width:${p.toFixed(1)}%` }));
  return bar;
}

/**
 * Four significant digits, scientific for very small or large values, "–" for nothing.
 * @param {unknown} value
 */
export function formatNumber(value) {
  if (value === null || value === undefined || value === '') return '–';
  if (typeof value !== 'number') return String(value);
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs < 1e-3 || abs >= 1e6) return value.toExponential(2).replace(/\.?0+e/, 'e');
  return String(Number(value.toPrecision(4)));
}

/** @param {number | null | undefined} seconds */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/**
 * @param {string | null | undefined} iso
 * @param {number} [now]
 */
export function timeAgo(iso, now = Date.now()) {
  if (!iso) return '–';
  const seconds = (now - Date.parse(iso)) / 1000;
  if (seconds < 5) return 'just now';
  return `${formatDuration(seconds).split(' ')[0]} ago`;
}

/** @param {string | null | undefined} iso */
export function formatTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

/**
 * Shell-style quoting for showing argv; the service never runs a shell, this is only for reading and copying.
 * @param {readonly string[]} argv
 */
export function shellQuote(argv) {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}

/**
 * Shows a value from a request: objects and arrays as compact JSON.
 * @param {unknown} value
 */
export function formatValue(value) {
  if (value === null || value === undefined) return '–';
  // Exact, but 1e-5 rather than 0.00001: learning rates are easier to read that way.
  if (typeof value === 'number' && value !== 0 && Math.abs(value) < 1e-3) return value.toExponential();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** @param {{ id: string, name?: string | null }} run */
export function runLabel(run) {
  return run.name || run.id;
}
