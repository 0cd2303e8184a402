// /ui/runs/<id>: header with cancel and "run again", progress with ETA, metric charts, live log, parameters and command.
// @ts-check
/* global location, confirm */
import { api, ApiError, poll, query } from './api.js';
import { fill, formatDuration, formatNumber, h, progressBar, runLabel, stat, statusBadge } from './dom.js';
import { artifactsCard, evaluationCard, jobsCard, samplesCard } from './follow-up-views.js';
import { ACTIVE_STATUSES, FINAL_STATUSES } from './generated/domain.js';
import { errorBanner, mountShell, setTitle } from './layout.js';
import { LogTail } from './log-tail.js';
import { memoryCard, outOfMemoryBanner } from './memory-card.js';
import { RunCharts } from './run-charts.js';
import { commandCard, historyCard, outputsCard, parametersCard } from './run-details.js';

/** @typedef {import('../../src/contract/runs.js').RunDetail} RunDetail */
/** @typedef {import('../../src/contract/runs.js').RunMetrics} RunMetrics */

const FINAL = new Set(FINAL_STATUSES);
const CANCELLABLE = new Set(ACTIVE_STATUSES);
const REFRESH_MS = 2000;
/** The tail starts this many lines before the end, so a long finished log does not stream from its first line. */
const TAIL_LINES = 1000;

const runId = decodeURIComponent(location.pathname.split('/').pop() ?? '');
const runPath = `/v1/runs/${encodeURIComponent(runId)}`;
const main = mountShell('runs', `Run ${runId}`);
const head = h('div', { class: 'page-head' });
const sub = h('p', { class: 'sub', style: 'margin:-8px 0 16px' });
const banner = h('div');
const errorBox = h('div');
const progressCard = h('section', { class: 'card', id: 'progress' });
const charts = new RunCharts();
const history = h('div');
const outputs = h('div');
const memory = h('div');
const environment = h('div', { id: 'environment' });
const followUps = h('div', { id: 'follow-ups' });
main.append(head, sub, banner, errorBox, progressCard, followUps, charts.el);

let finalSeen = false;
let detailsShown = false;
/** @type {ReturnType<typeof poll> | null} */
let poller = null;
/** @type {ReturnType<typeof poll> | null} */
let followUpPoller = null;

/** Evaluation, samples, jobs and artifacts of a succeeded run; polled while a follow-up job is not final. */
async function refreshFollowUps() {
  const [jobs, artifacts] = await Promise.all([
    /** @type {Promise<import('../../src/contract/jobs.js').RunJobs>} */ (api(`${runPath}/jobs`)),
    /** @type {Promise<import('../../src/contract/jobs.js').RunArtifacts>} */ (api(`${runPath}/artifacts`)),
  ]);
  fill(
    followUps,
    evaluationCard(jobs.items),
    samplesCard(jobs.items),
    jobsCard(jobs.items),
    artifactsCard(artifacts.items),
  );
  return jobs.items.some((j) => !FINAL.has(j.status));
}

async function refresh() {
  const [detail, metrics] = await Promise.all([
    /** @type {Promise<RunDetail>} */ (api(runPath)),
    /** @type {Promise<RunMetrics>} */ (
      api(`${runPath}/metrics${query({ since: charts.lastIteration || undefined })}`)
    ),
  ]);
  const run = detail;
  charts.add(metrics.points ?? []);
  fill(banner);
  render(run);
  if (run.status === 'succeeded' && !followUpPoller)
    followUpPoller = poll(refreshFollowUps, REFRESH_MS, (err) => fill(banner, errorBanner(err)));
  if (FINAL.has(run.status)) {
    // One more read after the final status, so the last metrics written with it are drawn.
    if (finalSeen) return false;
    finalSeen = true;
  }
  return true;
}

/** @param {RunDetail} run */
function render(run) {
  setTitle(runLabel(run));
  renderHead(run);
  renderProgress(run);
  fill(
    errorBox,
    outOfMemoryBanner(run) ??
      (run.error ? h('div', { class: 'banner error', id: 'run-error' }, run.error) : null),
  );
  if (!detailsShown) {
    detailsShown = true;
    main.append(
      startTail(run).el,
      h('div', { class: 'grid two' }, parametersCard(run), commandCard(run)),
      outputs,
      memory,
      environment,
      history,
    );
  }
  fill(outputs, outputsCard(run));
  fill(memory, memoryCard(run));
  fill(environment, environmentCard(run));
  fill(history, historyCard(run));
}

/**
 * What the run trained with: worker, versions, machine, and the flag set its command was built for.
 * @param {RunDetail} r
 */
function environmentCard(r) {
  const e = r.environment;
  if (!e) return null;
  const gb = e.memoryBytes ? `${Math.round(e.memoryBytes / 2 ** 30)} GB` : '–';
  const flags = e.flagSet
    ? `mlx-lm-lora ${e.flagSet.version ?? '?'} (${e.flagSet.source === 'help' ? '--help' : e.flagSet.source === 'verified' ? 'verified set' : 'build_parser()'})`
    : '–';
  const rows = [
    ['Worker', e.worker],
    ['mlx-lm-lora', e.mlxLmLora ?? '–'],
    ['mlx-lm', e.mlxLm ?? '–'],
    ['mlx', e.mlx ?? '–'],
    ['Python', e.python ?? '–'],
    ['OS', e.os ?? '–'],
    ['Chip', e.chip ?? '–'],
    ['Memory', gb],
    ['Command built for', flags],
  ];
  return h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Environment'),
    h('table', { class: 'kv' }, ...rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, String(v))))),
  );
}

/** @param {RunDetail} run */
function renderHead(run) {
  const cancel = CANCELLABLE.has(run.status) ? cancelButton(run) : null;
  fill(
    head,
    h('h1', {}, runLabel(run)),
    statusBadge(run.status),
    h('span', { class: 'spacer' }),
    cancel,
    h(
      'a',
      { class: 'button', id: 'run-again', href: `/ui/submit?from=${encodeURIComponent(run.id)}` },
      'Run again with changes',
    ),
  );
  fill(
    sub,
    h('span', { class: 'mono' }, run.id),
    ` · ${run.method} · `,
    h('span', { class: 'mono' }, run.model),
    run.sweepId
      ? [
          ' · ',
          h(
            'a',
            { href: `/ui/sweeps/${encodeURIComponent(run.sweepId)}` },
            `sweep run #${run.sweepIndex ?? 0}`,
          ),
        ]
      : null,
    (run.tags ?? []).length
      ? [' · ', run.tags.map((t) => h('a', { class: 'chip', href: `/ui?tag=${encodeURIComponent(t)}` }, t))]
      : null,
    ' · ',
    h('a', { href: `/admin/queues/queue/runs/${encodeURIComponent(run.id)}` }, 'queue job'),
    ' · ',
    h('a', { href: runPath }, 'JSON'),
  );
}

/** @param {RunDetail} run */
function renderProgress(run) {
  const p = run.progress ?? {};
  const started = run.startedAt ? Date.parse(run.startedAt) : null;
  const elapsed =
    run.durationMs != null
      ? run.durationMs / 1000
      : started && !FINAL.has(run.status)
        ? (Date.now() - started) / 1000
        : null;
  const left =
    run.status === 'running' && p.etaSeconds != null
      ? `about ${formatDuration(p.etaSeconds)} left`
      : run.status === 'queued'
        ? (run.waiting ?? 'waiting for a worker')
        : run.status === 'interrupted'
          ? 'interrupted: waiting to resume from the newest checkpoint'
          : FINAL.has(run.status)
            ? `${run.status} ${run.finishedAt ? new Date(run.finishedAt).toLocaleTimeString() : ''}`
            : '';
  fill(
    progressCard,
    progressBar(p.percent, { big: true, done: run.status === 'succeeded' }),
    h(
      'div',
      { class: 'progress-line' },
      h(
        'span',
        { id: 'progress-text' },
        p.total
          ? `Iteration ${p.iteration ?? 0} of ${p.total} (${formatNumber(p.percent ?? 0)}%)`
          : 'No iterations yet',
      ),
      h('span', { id: 'eta' }, left),
    ),
    h(
      'div',
      { class: 'stats' },
      stat('Train loss', formatNumber(p.latestLoss), 'stat-loss'),
      stat('Val loss', formatNumber(p.latestValLoss), 'stat-val-loss'),
      stat('Elapsed', formatDuration(elapsed), 'stat-elapsed'),
      stat('Attempt', run.attempt || '–', 'stat-attempt'),
      stat('Priority', run.priority ?? 0, 'stat-priority'),
    ),
  );
}

/** @param {RunDetail} run */
function startTail(run) {
  const after = FINAL.has(run.status) ? Math.max(0, (run.logLines ?? 0) - TAIL_LINES) : 0;
  const tail = new LogTail(run.id, {
    afterSeq: after,
    onStatus: () => poller?.now(),
    onEnd: () => poller?.now(),
  });
  tail.start();
  return tail;
}

/** @param {RunDetail} run */
function cancelButton(run) {
  const button = h('button', { type: 'button', class: 'danger', id: 'cancel' }, 'Cancel run');
  button.addEventListener('click', () => void cancelRun(button, run));
  return button;
}

/**
 * @param {HTMLButtonElement} button
 * @param {RunDetail} run
 */
async function cancelRun(button, run) {
  if (
    !confirm(`Cancel run ${runLabel(run)}? A running trainer is stopped; its checkpoints and log are kept.`)
  )
    return;
  button.disabled = true;
  fill(button, 'Cancelling…');
  try {
    await api(`${runPath}/cancel`, { method: 'POST' });
    finalSeen = false;
    if (poller) poller.now();
  } catch (err) {
    fill(
      banner,
      errorBanner(
        err instanceof ApiError && err.status === 404 && /No route/.test(err.message)
          ? new Error('This server has no cancel route yet')
          : err,
      ),
    );
    button.disabled = false;
    fill(button, 'Cancel run');
  }
}

try {
  await refresh();
  poller = poll(refresh, REFRESH_MS, (err) => fill(banner, errorBanner(err)));
} catch (err) {
  fill(head, h('h1', {}, `Run ${runId}`));
  fill(banner, errorBanner(err));
}
