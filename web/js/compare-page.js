// /ui/compare?runs=a,b,c: 2-8 runs side by side: overlaid loss and reward curves, parameter diff, evaluation, samples.
// @ts-check
/* global location, URLSearchParams */
import { api } from './api.js';
import { LineChart, PALETTE } from './charts.js';
import { COMPARE_MAX, COMPARE_MIN } from './compare-selection.js';
import { dataTable, fill, formatNumber, formatValue, h, runLabel, statusBadge } from './dom.js';
import { latestJob } from './follow-up-views.js';
import { errorBanner, mountShell } from './layout.js';

/** @typedef {import('../../src/contract/runs.js').RunDetail} RunDetail */
/** @typedef {import('../../src/contract/runs.js').RunMetrics} RunMetrics */
/** @typedef {import('../../src/contract/runs.js').MetricRow} MetricRow */
/** @typedef {import('../../src/contract/jobs.js').RunJobs} RunJobs */
/** @typedef {import('../../src/contract/jobs.js').JobView} JobView */
/** @typedef {import('../../src/contract/jobs.js').EvaluateResult} EvaluateResult */
/** @typedef {import('../../src/contract/jobs.js').SamplesResult} SamplesResult */

const ids = (new URLSearchParams(location.search).get('runs') ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const main = mountShell('runs', 'Compare runs');

/**
 * Curves drawn per run: the metric key, its title, which points.
 * @type {{ key: string, title: string, pick: (p: MetricRow) => boolean }[]}
 */
const CURVES = [
  { key: 'train-loss', title: 'Train loss', pick: (p) => p.name === 'loss' && p.split === 'train' },
  { key: 'val-loss', title: 'Val loss', pick: (p) => p.name === 'loss' && p.split === 'val' },
  {
    key: 'reward',
    title: 'Mean reward',
    pick: (p) => p.split === 'train' && p.name === 'total_rewards_mean',
  },
];

/** @param {RunDetail[]} runs */
function header(runs) {
  return h(
    'section',
    { class: 'card', id: 'compare-runs' },
    h('h2', {}, `${runs.length} runs`),
    h(
      'ul',
      { class: 'compare-legend' },
      runs.map((r, i) =>
        h(
          'li',
          {},
          h('span', { class: 'swatch', style: `background:${PALETTE[i % PALETTE.length]}` }),
          h('a', { href: `/ui/runs/${encodeURIComponent(r.id)}` }, runLabel(r)),
          ' ',
          statusBadge(r.status),
        ),
      ),
    ),
  );
}

/** @param {RunDetail[]} runs @param {MetricRow[][]} metrics */
function chartsSection(runs, metrics) {
  const grid = h('div', { class: 'charts', id: 'compare-charts' });
  /** @type {[LineChart, import('./charts.js').Series[]][]} */
  const charts = [];
  for (const c of CURVES) {
    const series = runs
      .map((r, i) => ({
        label: runLabel(r),
        color: PALETTE[i % PALETTE.length],
        points: metrics[i]
          .filter(c.pick)
          .map((p) => /** @type {[number, number | null]} */ ([p.iteration, p.value])),
      }))
      .filter((s) => s.points.length);
    if (!series.length) continue;
    const chart = new LineChart({ title: c.title, key: c.key });
    grid.append(chart.el);
    charts.push([chart, series]);
  }
  return { grid, draw: () => charts.forEach(([chart, series]) => chart.update(series)) };
}

/** @param {RunDetail[]} runs */
function paramsDiff(runs) {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.request ?? {})))].sort();
  const rows = keys.map((k) => {
    const values = runs.map((r) => formatValue(r.request?.[k]));
    const differs = new Set(values).size > 1;
    return h(
      'tr',
      { class: differs ? 'differs' : null, 'data-param': k },
      h('td', { class: 'mono' }, k),
      values.map((v) => h('td', { class: 'mono' }, v)),
    );
  });
  rows.sort((a, b) => Number(b.classList.contains('differs')) - Number(a.classList.contains('differs')));
  return h(
    'section',
    { class: 'card', id: 'compare-params' },
    h('h2', {}, 'Parameters (differences first)'),
    dataTable(['parameter', ...runs.map(runLabel)], rows),
  );
}

/** @param {RunDetail[]} runs @param {JobView[][]} jobs */
function evaluation(runs, jobs) {
  /** @param {string} label @param {(r: EvaluateResult | null) => string} pick */
  const row = (label, pick) =>
    h(
      'tr',
      {},
      h('td', {}, label),
      jobs.map((js) =>
        h('td', {}, pick(/** @type {EvaluateResult | null} */ (latestJob(js, 'evaluate')?.result ?? null))),
      ),
    );
  return h(
    'section',
    { class: 'card', id: 'compare-eval' },
    h('h2', {}, 'Evaluation'),
    dataTable(
      ['', ...runs.map(runLabel)],
      [
        row('test loss', (r) => (r ? formatNumber(r.test_loss) : 'not evaluated')),
        row('test perplexity', (r) => (r ? formatNumber(r.test_ppl) : '–')),
      ],
    ),
  );
}

/** @param {RunDetail[]} runs @param {JobView[][]} jobs */
function samples(runs, jobs) {
  const perRun = jobs.map(
    (js) => /** @type {SamplesResult | undefined} */ (latestJob(js, 'samples')?.result),
  );
  const prompts = [...new Set(perRun.flatMap((r) => (r ? r.prompts.map((p) => p.prompt) : [])))];
  if (!prompts.length)
    return h(
      'section',
      { class: 'card', id: 'compare-samples' },
      h('h2', {}, 'Samples'),
      h('p', { class: 'sub' }, 'No samples yet: run a samples job on the runs.'),
    );
  /** @param {SamplesResult | undefined} r @param {string} prompt */
  const answer = (r, prompt) => r?.prompts.find((p) => p.prompt === prompt);
  /** @param {string} prompt */
  const base = (prompt) => perRun.map((j) => answer(j, prompt)).find(Boolean)?.base.text ?? '–';
  return h(
    'section',
    { class: 'card', id: 'compare-samples' },
    h('h2', {}, 'Samples (greedy, base + adapter of each run)'),
    dataTable(
      ['Prompt', 'Base model', ...runs.map(runLabel)],
      prompts.map((p) =>
        h(
          'tr',
          {},
          h('td', { class: 'prompt' }, p),
          h('td', {}, base(p)),
          perRun.map((j) => h('td', {}, answer(j, p)?.adapter.text ?? '–')),
        ),
      ),
      { class: 'data samples-table' },
    ),
  );
}

async function load() {
  if (ids.length < COMPARE_MIN || ids.length > COMPARE_MAX)
    throw new Error(`Compare takes ${COMPARE_MIN} to ${COMPARE_MAX} runs (?runs=a,b,c); got ${ids.length}`);
  /** @param {string} id */
  const get = (id, sub = '') => api(`/v1/runs/${encodeURIComponent(id)}${sub}`);
  const runs = await Promise.all(ids.map((id) => /** @type {Promise<RunDetail>} */ (get(id))));
  const [metrics, jobs] = await Promise.all([
    Promise.all(
      ids.map((id) => /** @type {Promise<RunMetrics>} */ (get(id, '/metrics')).then((m) => m.points ?? [])),
    ),
    Promise.all(
      ids.map((id) => /** @type {Promise<RunJobs>} */ (get(id, '/jobs')).then((j) => j.items ?? [])),
    ),
  ]);
  const charts = chartsSection(runs, metrics);
  main.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Compare runs')),
    header(runs),
    charts.grid,
    paramsDiff(runs),
    evaluation(runs, jobs),
    samples(runs, jobs),
  );
  charts.draw();
}

try {
  await load();
} catch (err) {
  fill(main, h('div', { class: 'page-head' }, h('h1', {}, 'Compare runs')), errorBanner(err));
}
