// /ui/compare?runs=a,b,c: 2-8 runs side by side: overlaid loss and reward curves, parameter diff, evaluation, samples.
/* global location, URLSearchParams */
import { api } from './api.js';
import { LineChart, PALETTE } from './charts.js';
import { COMPARE_MAX, COMPARE_MIN } from './compare-selection.js';
import { fill, formatNumber, formatValue, h, runLabel, statusBadge } from './dom.js';
import { latestJob } from './follow-up-views.js';
import { errorBanner, mountShell } from './layout.js';

const ids = (new URLSearchParams(location.search).get('runs') ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const main = mountShell('runs', 'Compare runs');

/** Curves drawn per run: the metric key, its title, which points. */
const CURVES = [
  { key: 'train-loss', title: 'Train loss', pick: (p) => p.name === 'loss' && p.split === 'train' },
  { key: 'val-loss', title: 'Val loss', pick: (p) => p.name === 'loss' && p.split === 'val' },
  {
    key: 'reward',
    title: 'Mean reward',
    pick: (p) => p.split === 'train' && p.name === 'total_rewards_mean',
  },
];

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

function chartsSection(runs, metrics) {
  const grid = h('div', { class: 'charts', id: 'compare-charts' });
  const charts = [];
  for (const c of CURVES) {
    const series = runs
      .map((r, i) => ({
        label: runLabel(r),
        color: PALETTE[i % PALETTE.length],
        points: metrics[i].filter(c.pick).map((p) => [p.iteration, p.value]),
      }))
      .filter((s) => s.points.length);
    if (!series.length) continue;
    const chart = new LineChart({ title: c.title, key: c.key });
    grid.append(chart.el);
    charts.push([chart, series]);
  }
  return { grid, draw: () => charts.forEach(([chart, series]) => chart.update(series)) };
}

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
    h(
      'table',
      { class: 'data' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'parameter'),
          runs.map((r) => h('th', {}, runLabel(r))),
        ),
      ),
      h('tbody', {}, rows),
    ),
  );
}

function evaluation(runs, jobs) {
  const row = (label, pick) =>
    h(
      'tr',
      {},
      h('td', {}, label),
      jobs.map((js) => h('td', {}, pick(latestJob(js, 'evaluate')))),
    );
  return h(
    'section',
    { class: 'card', id: 'compare-eval' },
    h('h2', {}, 'Evaluation'),
    h(
      'table',
      { class: 'data' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, ''),
          runs.map((r) => h('th', {}, runLabel(r))),
        ),
      ),
      h(
        'tbody',
        {},
        row('test loss', (j) => (j ? formatNumber(j.result.test_loss) : 'not evaluated')),
        row('test perplexity', (j) => (j ? formatNumber(j.result.test_ppl) : '–')),
      ),
    ),
  );
}

function samples(runs, jobs) {
  const perRun = jobs.map((js) => latestJob(js, 'samples'));
  const prompts = [...new Set(perRun.flatMap((j) => (j ? j.result.prompts.map((p) => p.prompt) : [])))];
  if (!prompts.length)
    return h(
      'section',
      { class: 'card', id: 'compare-samples' },
      h('h2', {}, 'Samples'),
      h('p', { class: 'sub' }, 'No samples yet: run a samples job on the runs.'),
    );
  const answer = (j, prompt) => j?.result.prompts.find((p) => p.prompt === prompt);
  const base = (prompt) => perRun.map((j) => answer(j, prompt)).find(Boolean)?.base.text ?? '–';
  return h(
    'section',
    { class: 'card', id: 'compare-samples' },
    h('h2', {}, 'Samples (greedy, base + adapter of each run)'),
    h(
      'table',
      { class: 'data samples-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', {}, 'Prompt'),
          h('th', {}, 'Base model'),
          runs.map((r) => h('th', {}, runLabel(r))),
        ),
      ),
      h(
        'tbody',
        {},
        prompts.map((p) =>
          h(
            'tr',
            {},
            h('td', { class: 'prompt' }, p),
            h('td', {}, base(p)),
            perRun.map((j) => h('td', {}, answer(j, p)?.adapter.text ?? '–')),
          ),
        ),
      ),
    ),
  );
}

async function load() {
  if (ids.length < COMPARE_MIN || ids.length > COMPARE_MAX)
    throw new Error(`Compare takes ${COMPARE_MIN} to ${COMPARE_MAX} runs (?runs=a,b,c); got ${ids.length}`);
  const runs = await Promise.all(ids.map((id) => api(`/v1/runs/${encodeURIComponent(id)}`)));
  const [metrics, jobs] = await Promise.all([
    Promise.all(
      ids.map((id) => api(`/v1/runs/${encodeURIComponent(id)}/metrics`).then((m) => m.points ?? [])),
    ),
    Promise.all(ids.map((id) => api(`/v1/runs/${encodeURIComponent(id)}/jobs`).then((j) => j.items ?? []))),
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
