// /ui/workers: the live workers (state, current run, memory, versions, last seen) from the registry, and the
// credentials for workers on other Macs: register one (its token is shown once) and revoke one.
// @ts-check
/* global document */
import { api, poll } from './api.js';
import { dataTable, fill, h, timeAgo } from './dom.js';
import { errorBanner, mountShell } from './layout.js';

/** @typedef {import('../../src/contract/health.js').WorkerList} WorkerList */
/** @typedef {import('../../src/contract/health.js').WorkerView} WorkerView */
/** @typedef {import('../../src/contract/health.js').WorkerCredentialView} WorkerCredentialView */
/** @typedef {import('../../src/contract/health.js').CreatedWorkerCredential} CreatedWorkerCredential */

const REFRESH_MS = 3000;
const GB = 1024 ** 3;

const main = mountShell('workers', 'Workers');
const banner = h('div');
const summary = h('span', { class: 'sub', id: 'summary' });
const liveHost = h('div', { id: 'live-workers' });
const registeredHost = h('div', { id: 'registered-workers' });
const created = h('div', { id: 'created-token' });

main.append(
  h('div', { class: 'page-head' }, h('h1', {}, 'Workers'), summary),
  banner,
  h('section', { class: 'card' }, h('h2', {}, 'Live workers'), liveHost),
  h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Registered workers (other Macs)'),
    registerForm(),
    created,
    registeredHost,
  ),
);

const refresher = poll(refresh, REFRESH_MS, (err) => fill(banner, errorBanner(err)));

async function refresh() {
  /** @type {WorkerList} */
  const list = await api('/v1/workers');
  fill(banner, list.waiting ? h('div', { class: 'banner warn', role: 'alert' }, list.waiting) : null);
  fill(summary, `${list.items.length} live, ${list.usable} usable`);
  fill(
    liveHost,
    list.items.length
      ? liveTable(list.items)
      : h(
          'p',
          { class: 'empty' },
          'No worker is running. Start one with `npm start` on this Mac or `npm run worker` on another.',
        ),
  );
  fill(
    registeredHost,
    list.registered.length
      ? registeredTable(list.registered)
      : h('p', { class: 'empty' }, 'No worker registered yet.'),
  );
}

/** @param {unknown} value */
const text = (value) => (value === null || value === undefined || value === '' ? '–' : String(value));

/** @param {WorkerView[]} items */
function liveTable(items) {
  return dataTable(
    ['Name', 'State', 'Run', 'Memory', 'Versions', 'Host', 'Last seen'],
    items.map((w) =>
      h(
        'tr',
        { 'data-worker': w.name },
        h(
          'td',
          { class: 'name-cell' },
          w.name,
          (w.labels ?? []).map((l) => h('span', { class: 'chip' }, l)),
        ),
        h(
          'td',
          {},
          h('span', { class: `status ${w.state}`, 'data-state': w.state }, w.state),
          w.reason ? h('div', { class: 'sub reason' }, w.reason) : null,
        ),
        h('td', {}, w.runId ? h('a', { href: `/ui/runs/${encodeURIComponent(w.runId)}` }, w.runId) : '–'),
        h('td', {}, `${(w.totalMemoryBytes / GB).toFixed(0)} GB`),
        h('td', { class: 'mono' }, versions(w.versions)),
        h(
          'td',
          {},
          `${text(w.host)} · pid ${text(w.pid)}`,
          w.chip ? h('div', { class: 'sub' }, w.chip) : null,
        ),
        h('td', { title: w.lastSeen }, timeAgo(w.lastSeen)),
      ),
    ),
  );
}

/** @param {WorkerView['versions']} v */
function versions(v) {
  const parts = [
    ['mlx-lm-lora', v.mlxLmLora],
    ['mlx', v.mlx],
    ['mlx-lm', v.mlxLm],
    ['python', v.python],
  ];
  return parts.map(([name, version]) => h('div', {}, `${name} ${version ?? '–'}`));
}

/** @param {WorkerCredentialView[]} creds */
function registeredTable(creds) {
  return dataTable(
    ['Name', 'Labels', 'Created', 'Last used', 'Status', ''],
    creds.map((c) =>
      h(
        'tr',
        { 'data-credential': c.id },
        h('td', { class: 'name-cell' }, c.name, h('span', { class: 'id' }, c.id)),
        h(
          'td',
          {},
          c.labels.map((l) => h('span', { class: 'chip' }, l)),
        ),
        h('td', {}, timeAgo(c.createdAt)),
        h('td', {}, c.lastUsedAt ? timeAgo(c.lastUsedAt) : 'never'),
        h(
          'td',
          {},
          c.revokedAt
            ? h('span', { class: 'status revoked' }, 'revoked')
            : h('span', { class: 'status idle' }, 'active'),
        ),
        h(
          'td',
          {},
          c.revokedAt
            ? null
            : h('button', { type: 'button', class: 'revoke', onclick: () => void revoke(c) }, 'Revoke'),
        ),
      ),
    ),
  );
}

/** @param {WorkerCredentialView} c */
async function revoke(c) {
  try {
    await api(`/v1/workers/${encodeURIComponent(c.id)}`, { method: 'DELETE' });
    refresher.now();
  } catch (err) {
    fill(banner, errorBanner(err));
  }
}

function registerForm() {
  const name = h('input', { type: 'text', name: 'name', placeholder: 'studio-1', required: true });
  const labels = h('input', {
    type: 'text',
    name: 'labels',
    placeholder: 'labels, comma-separated (optional)',
  });
  const form = h(
    'form',
    { class: 'filters', id: 'register-worker' },
    h('label', {}, 'Name', name),
    h('label', {}, 'Labels', labels),
    h('button', { type: 'submit', class: 'primary' }, 'Register a worker'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = {
      name: name.value.trim(),
      labels: labels.value
        .split(',')
        .map((l) => l.trim())
        .filter(Boolean),
    };
    /** @type {Promise<CreatedWorkerCredential>} */ (api('/v1/workers', { method: 'POST', body })).then(
      (made) => {
        fill(
          created,
          h(
            'div',
            { class: 'banner info' },
            h('p', {}, `Worker ${made.name} registered. Its token is shown only this once:`),
            h('pre', { class: 'token-once', id: 'worker-token' }, made.token),
            h(
              'p',
              {},
              'On that Mac, set WORKER_TOKEN to it, with SERVER_URL and REDIS_URL, and run `npm run worker`.',
            ),
          ),
        );
        name.value = '';
        labels.value = '';
        refresher.now();
      },
      (err) => fill(created, errorBanner(err)),
    );
  });
  return form;
}

document.addEventListener('visibilitychange', () => refresher.now());
