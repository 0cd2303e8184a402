// The run page's static panels: parameters, command and config, outputs, attempts and status history.
// @ts-check
/* global navigator */
import {
  dataTable,
  fill,
  formatDuration,
  formatNumber,
  formatTime,
  formatValue,
  h,
  kvList,
  shellQuote,
  statusBadge,
} from './dom.js';

/** @typedef {import('../../src/contract/runs.js').RunDetail} RunDetail */

/** @param {RunDetail} run */
export function parametersCard(run) {
  const request = run.request ?? {};
  const keys = Object.keys(request).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return h(
    'section',
    { class: 'card', id: 'parameters' },
    h('h2', {}, 'Parameters'),
    h(
      'dl',
      { class: 'kv' },
      keys.map((k) => [h('dt', { class: 'mono' }, k), h('dd', { class: 'mono' }, formatValue(request[k]))]),
    ),
  );
}

const FIRST = ['method', 'name', 'model', 'data', 'iters', 'epochs'];
/** @param {string} k */
const rank = (k) => (FIRST.includes(k) ? FIRST.indexOf(k) : FIRST.length);

/** @param {RunDetail} run */
export function commandCard(run) {
  const command = shellQuote(run.argv ?? []);
  const copy = h('button', { type: 'button' }, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(command);
      fill(copy, 'Copied');
    } catch {
      fill(copy, 'Select and copy by hand');
    }
  });
  return h(
    'section',
    { class: 'card', id: 'command' },
    h('div', { class: 'log-head' }, h('h2', {}, 'Command'), h('span', { style: 'flex:1' }), copy),
    h('pre', { class: 'block', id: 'command-text' }, command),
    configAndWarnings(run.config, run.warnings),
  );
}

/**
 * Under a command: the config.yaml it reads and the request's warnings (the run page and the dry run).
 * @param {string | null} config
 * @param {import('../../src/contract/common.js').FieldIssue[]} warnings
 */
export function configAndWarnings(config, warnings) {
  return [
    config
      ? [h('h2', { style: 'margin-top:14px' }, 'config.yaml'), h('pre', { class: 'block' }, config)]
      : null,
    (warnings ?? []).length
      ? [
          h('h2', { style: 'margin-top:14px' }, 'Warnings'),
          h(
            'ul',
            { class: 'problems' },
            warnings.map((w) => h('li', {}, h('code', {}, w.path), ': ', w.message)),
          ),
        ]
      : null,
  ];
}

/** @param {RunDetail} run */
export function outputsCard(run) {
  /** @type {[string, unknown][]} */
  const rows = [
    ['Run folder', run.runDir],
    ['Adapter path', run.adapterPath],
    ['Adapter file', run.adapterFile],
    ['Checkpoints', (run.checkpoints ?? []).join(', ') || null],
    ['mlx-lm-lora', run.mlxVersion],
    ['Worker', run.worker],
    [
      'Exit',
      run.exitCode != null || run.signal
        ? `${run.exitCode ?? ''}${run.signal ? ` ${run.signal}` : ''}`
        : null,
    ],
    ['Stop reason', run.stopReason],
    ['Log', run.logLines ? `${run.logLines} lines, ${formatBytes(run.logBytes)}` : null],
  ];
  return h(
    'section',
    { class: 'card', id: 'outputs' },
    h('h2', {}, 'Outputs'),
    kvList(rows.filter(([, v]) => v !== null && v !== undefined && v !== '')),
    testMetrics(run.latestMetrics),
  );
}

/** @param {RunDetail['latestMetrics']} latest */
function testMetrics(latest) {
  const points = Array.isArray(latest) ? latest.filter((p) => p.split === 'test') : [];
  if (points.length === 0) return null;
  return [
    h('h2', { style: 'margin-top:14px' }, 'Test'),
    h(
      'dl',
      { class: 'kv' },
      points.map((p) => [h('dt', {}, p.name), h('dd', {}, formatNumber(p.value))]),
    ),
  ];
}

/** @param {number | null} n */
function formatBytes(n) {
  if (!n) return '0 B';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  const i = Math.min(units.length - 1, Math.floor(Math.log2(n) / 10));
  return `${formatNumber(n / 1024 ** i)} ${units[i]}`;
}

/** @param {RunDetail} run */
export function historyCard(run) {
  const attempts = run.attempts ?? [];
  const events = run.events ?? [];
  return h(
    'section',
    { class: 'card', id: 'history' },
    h('h2', {}, 'History'),
    h(
      'div',
      { class: 'table-wrap' },
      dataTable(
        ['When', 'Status', 'Attempt', 'Reason'],
        events.map((e) =>
          h(
            'tr',
            {},
            h('td', {}, formatTime(new Date(e.at).toISOString())),
            h('td', {}, statusBadge(e.toStatus)),
            h('td', {}, e.attempt || '–'),
            h('td', {}, e.reason ?? ''),
          ),
        ),
      ),
    ),
    attempts.length > 1
      ? h(
          'p',
          { class: 'sub' },
          attempts
            .map(
              (a) =>
                `attempt ${a.attempt}: ${a.outcome ?? 'running'}${a.resumedFrom ? ` (resumed from ${a.resumedFrom})` : ''}${a.finishedAt ? `, ${formatDuration((a.finishedAt - a.startedAt) / 1000)}` : ''}`,
            )
            .join(' · '),
        )
      : null,
  );
}
