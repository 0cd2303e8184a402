// The submit page's dry-run answer: the command, config.yaml, warnings and a summary of the dataset report.
// @ts-check
import { h, shellQuote } from './dom.js';
import { configAndWarnings } from './run-details.js';

/**
 * @param {import('../../src/contract/runs.js').DryRun} answer
 * @param {Record<string, unknown>} body
 */
export function dryRunCard(answer, body) {
  const dataset = answer.dataset && typeof answer.dataset === 'object' ? answer.dataset : null;
  return h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Command'),
    h('pre', { class: 'block', id: 'dry-run-command' }, shellQuote(answer.argv ?? [])),
    configAndWarnings(answer.config, answer.warnings),
    dataset ? [h('h2', { style: 'margin-top:14px' }, 'Dataset'), datasetSummary(dataset)] : null,
    h(
      'details',
      { style: 'margin-top:14px' },
      h('summary', {}, 'Request JSON'),
      h('pre', { class: 'block' }, JSON.stringify(body, null, 2)),
    ),
  );
}

/**
 * The dataset report in one line per split, the full report folded away.
 * @param {import('../../src/contract/datasets.js').DatasetReport} d
 */
function datasetSummary(d) {
  const splits = Object.entries(d.splits ?? {}).map(([name, s]) =>
    h('li', {}, h('code', {}, s.file ?? name), s.present ? `: ${s.rows} rows, ${s.bytes} bytes` : ': absent'),
  );
  return h(
    'div',
    { id: 'dry-run-dataset' },
    h(
      'p',
      {},
      `Format ${d.format ?? 'unknown'}${d.dir ? ` in ${d.dir}` : ''}; ${d.totalProblems ? `${d.totalProblems} problems` : 'no problems'}.`,
    ),
    splits.length ? h('ul', { class: 'problems' }, splits) : null,
    h(
      'details',
      {},
      h('summary', {}, 'Full report'),
      h('pre', { class: 'block' }, JSON.stringify(d, null, 2)),
    ),
  );
}
