// /ui/sweeps/<id>: the sweep's runs as a sortable table, a chart over the varied parameters (heatmap for two), the best run.
// @ts-check
/* global location, confirm */
import { api, poll } from './api.js';
import { fill, formatNumber, formatValue, h, statusBadge } from './dom.js';
import { FINAL_STATUSES, STATUS_ORDER } from './generated/domain.js';
import { errorBanner, mountShell, setTitle } from './layout.js';
import { SweepChart } from './sweep-chart.js';
import { metricLabel, SweepTable } from './sweep-table.js';

const REFRESH_MS = 3000;
const sweepId = decodeURIComponent(location.pathname.split('/').pop() ?? '');
const sweepPath = `/v1/sweeps/${encodeURIComponent(sweepId)}`;
const main = mountShell('runs', `Sweep ${sweepId}`);
const head = h('div', { class: 'page-head' });
const sub = h('p', { class: 'sub', style: 'margin:-8px 0 16px' });
const banner = h('div');
const bestBox = h('div');
const chart = new SweepChart();
const table = new SweepTable();
main.append(head, sub, banner, bestBox, chart.el, table.el);

/** @typedef {import('../../src/contract/sweeps.js').SweepDetail} SweepDetail */

/** @param {SweepDetail} sweep */
function render(sweep) {
  setTitle(sweep.name || `Sweep ${sweep.id}`);
  const active = sweep.status === 'active';
  fill(
    head,
    h('h1', {}, sweep.name || `Sweep ${sweep.id}`),
    statusBadge(sweep.status),
    h('span', { class: 'spacer' }),
    active
      ? h(
          'button',
          { type: 'button', class: 'danger', id: 'cancel-sweep', onclick: cancelSweep },
          'Cancel sweep',
        )
      : null,
    h('a', { class: 'button', href: `${sweepPath}?format=csv` }, 'Download CSV'),
  );
  const c = sweep.counts;
  fill(
    sub,
    h('span', { class: 'mono' }, sweep.id),
    ` · ${sweep.runs.length} runs · metric ${metricLabel(sweep.metric)} (${sweep.metric.goal === 'max' ? 'higher' : 'lower'} is better) · `,
    STATUS_ORDER.filter((s) => c[s])
      .map((s) => `${c[s]} ${s}`)
      .join(', '),
  );
  const b = sweep.best;
  const bestRow = b ? sweep.runs.find((r) => r.runId === b.runId) : null;
  fill(
    bestBox,
    b
      ? h(
          'div',
          { class: 'banner info', id: 'best-run' },
          b.provisional ? 'Leading so far: ' : 'Best run: ',
          h('a', { href: `/ui/runs/${encodeURIComponent(b.runId)}` }, bestRow?.name || `#${b.index}`),
          h('strong', {}, ` — ${metricLabel(sweep.metric)} ${formatNumber(b.value)}`),
          ` at iteration ${b.iteration} with ${Object.entries(b.values ?? {})
            .map(([k, v]) => `${k} = ${formatValue(v)}`)
            .join(', ')}`,
        )
      : h(
          'div',
          { class: 'banner info', id: 'best-run' },
          `No run has reported ${metricLabel(sweep.metric)} yet.`,
        ),
  );
  chart.render(sweep);
  table.render(sweep);
}

async function cancelSweep() {
  if (!confirm('Cancel every queued and running run of this sweep?')) return;
  try {
    await api(`${sweepPath}/cancel`, { method: 'POST' });
    poller?.now();
  } catch (err) {
    fill(banner, errorBanner(err));
  }
}

async function refresh() {
  const sweep = /** @type {SweepDetail} */ (await api(sweepPath));
  fill(banner);
  render(sweep);
  return sweep.status === 'active' || sweep.runs.some((r) => !FINAL_STATUSES.includes(r.status));
}

/** @type {ReturnType<typeof poll> | null} */
let poller = null;
try {
  if (await refresh()) poller = poll(refresh, REFRESH_MS, (err) => fill(banner, errorBanner(err)));
} catch (err) {
  fill(head, h('h1', {}, `Sweep ${sweepId}`));
  fill(banner, errorBanner(err));
}
