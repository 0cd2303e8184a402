// Follow-up results as the run and compare pages show them: evaluation, samples side by side, jobs, artifacts.
// @ts-check
import { dataTable, formatNumber, formatTime, h, stat, statusBadge } from './dom.js';

/** @typedef {import('../../src/contract/jobs.js').JobView} JobView */
/** @typedef {import('../../src/contract/jobs.js').ArtifactView} ArtifactView */
/** @typedef {import('../../src/contract/jobs.js').EvaluateResult} EvaluateResult */
/** @typedef {import('../../src/contract/jobs.js').SamplesResult} SamplesResult */
/** @typedef {import('../../src/contract/jobs.js').FuseResult} FuseResult */
/** @typedef {import('../../src/contract/jobs.js').ExportResult} ExportResult */
/** @typedef {SamplesResult['prompts'][number]['base']} Generation */

/**
 * The newest succeeded job of a kind, or null.
 * @param {JobView[] | null | undefined} jobs
 * @param {JobView['kind']} kind
 */
export function latestJob(jobs, kind) {
  const done = (jobs ?? []).filter((j) => j.kind === kind && j.status === 'succeeded');
  return done.length ? done[done.length - 1] : null;
}

/** @param {number | null | undefined} n */
export function formatBytes(n) {
  if (n == null) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** @param {JobView[]} jobs */
export function evaluationCard(jobs) {
  const j = latestJob(jobs, 'evaluate');
  if (!j) return null;
  const r = /** @type {EvaluateResult} */ (j.result);
  return h(
    'section',
    { class: 'card', id: 'evaluation' },
    h('h2', {}, 'Evaluation'),
    h(
      'div',
      { class: 'stats' },
      stat('Test loss', formatNumber(r.test_loss), 'eval-loss'),
      stat('Test perplexity', formatNumber(r.test_ppl), 'eval-ppl'),
      stat('Batches', r.batches, 'eval-batches'),
      stat('Tokens scored', r.tokens ?? '–', 'eval-tokens', r.tokens_note ?? null),
    ),
    h('p', { class: 'sub' }, `${r.tool} on ${r.data} · ${formatTime(j.finishedAt)}`),
  );
}

/** @param {Generation} g */
const genCell = (g) =>
  h(
    'td',
    {},
    h('div', { class: 'sample-text' }, g.text || '(no text)'),
    h(
      'div',
      { class: 'sub' },
      `${g.generationTokens} tokens · ${formatNumber(g.generationTps)} tok/s · ${formatNumber(g.peakMemoryGb)} GB`,
    ),
  );

/** Prompt | base | base + adapter, one row per prompt. */
/** @param {JobView[]} jobs */
export function samplesCard(jobs) {
  const j = latestJob(jobs, 'samples');
  if (!j) return null;
  const r = /** @type {SamplesResult} */ (j.result);
  return h(
    'section',
    { class: 'card', id: 'samples' },
    h('h2', {}, `Samples (greedy, max ${r.max_tokens} tokens)`),
    dataTable(
      ['Prompt', 'Base model', 'Base + adapter'],
      r.prompts.map((p) =>
        h(
          'tr',
          { class: p.differs ? 'differs' : null },
          h('td', { class: 'prompt' }, p.prompt),
          genCell(p.base),
          genCell(p.adapter),
        ),
      ),
      { class: 'data samples-table' },
    ),
  );
}

/** @param {JobView[]} jobs */
export function jobsCard(jobs) {
  if (!(jobs ?? []).length) return null;
  return h(
    'section',
    { class: 'card', id: 'jobs' },
    h('h2', {}, 'Follow-up jobs'),
    dataTable(
      ['Job', 'Kind', 'Status', 'Result or error', 'Finished'],
      jobs.map((j) =>
        h(
          'tr',
          { 'data-job': j.id },
          h('td', { class: 'mono' }, h('a', { href: `/v1/jobs/${encodeURIComponent(j.id)}` }, j.id)),
          h('td', {}, j.kind, j.options?.format ? ` (${j.options.format})` : ''),
          h('td', {}, statusBadge(j.status)),
          h('td', { class: j.error ? 'error-text' : null }, j.error ?? summary(j)),
          h('td', {}, formatTime(j.finishedAt)),
        ),
      ),
    ),
  );
}

/** @param {JobView} j */
function summary(j) {
  if (!j.result) return '';
  if (j.kind === 'evaluate') {
    const r = /** @type {EvaluateResult} */ (j.result);
    return `test loss ${formatNumber(r.test_loss)}, ppl ${formatNumber(r.test_ppl)}`;
  }
  if (j.kind === 'samples') {
    const r = /** @type {SamplesResult} */ (j.result);
    return `${r.prompts.length} prompts, ${r.differing} differ from the base`;
  }
  if (j.kind === 'fuse') {
    const r = /** @type {FuseResult} */ (j.result);
    return `${r.path} · verified ${String(r.verified)}`;
  }
  const r = /** @type {ExportResult} */ (j.result);
  return `${r.format}: ${r.path}`;
}

/** @param {ArtifactView[]} artifacts */
export function artifactsCard(artifacts) {
  if (!(artifacts ?? []).length) return null;
  return h(
    'section',
    { class: 'card', id: 'artifacts' },
    h('h2', {}, 'Artifacts'),
    dataTable(
      ['Artifact', 'Kind', 'Size', 'Verified', 'sha256'],
      artifacts.map((a) =>
        h(
          'tr',
          { 'data-artifact': a.id },
          h('td', {}, h('a', { href: a.downloadUrl, download: a.name }, a.name)),
          h('td', {}, a.kind),
          h('td', {}, formatBytes(a.bytes)),
          h('td', {}, a.verified === null ? '–' : a.verified ? 'verified' : 'NOT verified'),
          h('td', { class: 'mono', title: a.sha256 }, a.sha256.slice(0, 12)),
        ),
      ),
    ),
  );
}
