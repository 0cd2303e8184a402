// The page frame every page shares: top bar with navigation, the main column, and error banners.
// @ts-check
/* global document */
import { h } from './dom.js';

const NAV = [
  { key: 'runs', href: '/ui', text: 'Runs' },
  { key: 'submit', href: '/ui/submit', text: 'Submit' },
  { key: 'queue', href: '/admin/queues', text: 'Queue' },
];

/** Builds the top bar and returns the empty main element the page renders into. */
export function mountShell(active, title) {
  document.title = title ? `${title} · mlx-train-queue` : 'mlx-train-queue';
  const nav = h(
    'nav',
    {},
    NAV.map((n) => h('a', { href: n.href, class: n.key === active ? 'active' : null }, n.text)),
  );
  const main = h('main', { class: 'page', id: 'app' });
  document.body.replaceChildren(
    h('header', { class: 'topbar' }, h('a', { class: 'brand', href: '/ui' }, 'mlx-train-queue'), nav),
    main,
  );
  return main;
}

export function setTitle(title) {
  document.title = `${title} · mlx-train-queue`;
}

/** A red banner for an error the page cannot recover from by itself (unknown run, API down, not signed in). */
export function errorBanner(err) {
  const status = err && typeof err.status === 'number' ? ` (HTTP ${err.status})` : '';
  return h('div', { class: 'banner error', role: 'alert' }, `${err?.message ?? String(err)}${status}`);
}
