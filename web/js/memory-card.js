// The run page's memory panels: the out-of-memory banner (peak, estimate, advice, reductions) and the estimate card.
// @ts-check
import { h, kvList } from './dom.js';

/** @typedef {import('../../src/contract/runs.js').RunDetail} RunDetail */

/** @param {number | null | undefined} x */
const gb = (x) => (x === null || x === undefined ? 'unknown' : `${Number(x).toFixed(2)} GB`);

/**
 * Shown instead of the plain error when the trainer ran out of memory; null otherwise.
 * @param {RunDetail} run
 */
export function outOfMemoryBanner(run) {
  const oom = run.outOfMemory;
  if (!oom || run.stopReason !== 'out_of_memory') return null;
  const reductions = oom.reductions ?? [];
  return h(
    'div',
    { class: 'banner error', id: 'run-oom' },
    h('strong', {}, `Out of memory: peak ${gb(oom.peak_gb)}, estimate ${gb(oom.estimate_gb)}`),
    h('div', { class: 'mono' }, oom.message),
    h('p', {}, 'What helps:'),
    h(
      'ul',
      {},
      oom.advice.map((a) => h('li', {}, a)),
    ),
    reductions.length
      ? [
          h('p', {}, 'Retried with smaller settings (on_oom: reduce):'),
          h(
            'ul',
            {},
            reductions.map((r) => h('li', {}, `attempt ${r.attempt}: ${r.why}`)),
          ),
        ]
      : null,
  );
}

/**
 * The estimate made at submit, its breakdown, the workers' usable memory, and the measured peak.
 * @param {RunDetail} run
 */
export function memoryCard(run) {
  const m = run.memory;
  if (!m) return null;
  /** @type {[string, unknown][]} */
  const rows = [
    ['Estimate', m.estimate_gb === null ? m.reason : `${gb(m.estimate_gb)} (±35%)`],
    ['Measured peak', run.peakMemoryGb === null ? null : gb(run.peakMemoryGb)],
    [
      'Fits',
      m.fit === 'unknown' ? null : m.fit === 'tight' ? 'yes, with a tight margin' : m.fits ? 'yes' : 'no',
    ],
    ...Object.entries(m.usable_gb_by_worker ?? {}).map(
      ([w, u]) => /** @type {[string, unknown]} */ ([`Usable on ${w}`, gb(u)]),
    ),
    ...Object.entries(m.breakdown ?? {}).map(
      ([k, v]) => /** @type {[string, unknown]} */ ([`  ${k}`, gb(v)]),
    ),
  ];
  return h(
    'section',
    { class: 'card', id: 'memory' },
    h('h2', {}, 'Memory'),
    kvList(rows.filter(([, v]) => v !== null && v !== undefined)),
    (m.notes ?? []).length
      ? h(
          'ul',
          {},
          m.notes.map((n) => h('li', {}, n)),
        )
      : null,
  );
}
