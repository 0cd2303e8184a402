// The page frame every page shares: top bar with navigation, the main column, and error banners.
// @ts-check
/* global document */
import { api, ApiError, poll } from './api.js';
import { fill, h } from './dom.js';

const NAV = [
  { key: 'runs', href: '/ui', text: 'Runs' },
  { key: 'submit', href: '/ui/submit', text: 'Submit' },
  { key: 'workers', href: '/ui/workers', text: 'Workers' },
  { key: 'queue', href: '/admin/queues', text: 'Queue' },
];

/**
 * Builds the top bar and returns the empty main element the page renders into.
 * @param {string} active the NAV key of the page
 * @param {string} [title]
 */
export function mountShell(active, title) {
  document.title = title ? `${title} · mlx-train-queue` : 'mlx-train-queue';
  const nav = h(
    'nav',
    {},
    NAV.map((n) => h('a', { href: n.href, class: n.key === active ? 'active' : null }, n.text)),
  );
  const main = h('main', { class: 'page', id: 'app' });
  const notice = h('div', { class: 'worker-notice', id: 'worker-notice', role: 'status', hidden: true });
  document.body.replaceChildren(
    h('header', { class: 'topbar' }, h('a', { class: 'brand', href: '/ui' }, 'mlx-train-queue'), nav),
    notice,
    main,
  );
  watchWorkers(notice);
  return main;
}

const WORKERS_REFRESH_MS = 10_000;

/**
 * The header notice: shown while no live worker can take a run (none running, or every one unusable), with the
 * registry's reason, so queued runs that do not move are explained on every page.
 * @param {HTMLElement} notice
 */
function watchWorkers(notice) {
  poll(
    async () => {
      /** @type {import('../../src/contract/health.js').WorkerList} */
      const workers = await api('/v1/workers');
      notice.hidden = workers.usable > 0;
      if (workers.usable > 0) return;
      fill(
        notice,
        h('strong', {}, 'No usable worker: queued runs will not start. '),
        workers.waiting?.replace(/^waiting: /, '') ?? '',
        ' ',
        h('a', { href: '/ui/workers' }, 'Workers'),
      );
    },
    WORKERS_REFRESH_MS,
    // A page whose API is down says so itself; the notice keeps its last state.
    () => undefined,
  );
}

/** @param {string} title */
export function setTitle(title) {
  document.title = `${title} · mlx-train-queue`;
}

/**
 * A red banner for an error the page cannot recover from by itself (unknown run, API down, not signed in).
 * @param {unknown} err
 */
export function errorBanner(err) {
  const status = err instanceof ApiError ? ` (HTTP ${err.status})` : '';
  return h(
    'div',
    { class: 'banner error', role: 'alert' },
    `${err instanceof Error ? err.message : String(err)}${status}`,
  );
}
