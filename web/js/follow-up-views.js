// Follow-up results as the run and compare pages show them: evaluation, samples side by side, jobs, artifacts.
import { formatNumber, formatTime, h, statusBadge } from './dom.js';

/** The newest succeeded job of a kind, or null. */
export function latestJob(jobs, kind) {
  const done = (jobs ?? []).filter((j) => j.kind === kind && j.status === 'succeeded');
  return done.length ? done[done.length - 1] : null;
}

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

export function evaluationCard(jobs) {
  const j = latestJob(jobs, 'evaluate');
  if (!j) return null;
  const r = j.result;
  const stat = (label, value, id) =>
    h('div', { class: 'stat' }, h('div', { class: 'label' }, label), h('div', { class: 'value', id }, value));
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
      h(
        'div',
        { class: 'stat', title: r.tokens_note ?? null },
        h('div', { class: 'label' }, 'Tokens scored'),
        h('div', { class: 'value', id: 'eval-tokens' }, r.tokens ?? '–'),
      ),
    ),
    h('p', { class: 'sub' }, `${r.tool} on ${r.data} · ${formatTime(j.finishedAt)}`),
  );
}

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
export function samplesCard(jobs) {
  const j = latestJob(jobs, 'samples');
  if (!j) return null;
  return h(
    'section',
    { class: 'card', id: 'samples' },
    h('h2', {}, `Samples (greedy, max ${j.result.max_tokens} tokens)`),
    h(
      'table',
      { class: 'data samples-table' },
      h(
        'thead',
        {},
        h('tr', {}, h('th', {}, 'Prompt'), h('th', {}, 'Base model'), h('th', {}, 'Base + adapter')),
      ),
      h(
        'tbody',
        {},
        j.result.prompts.map((p) =>
          h(
            'tr',
            { class: p.differs ? 'differs' : null },
            h('td', { class: 'prompt' }, p.prompt),
            genCell(p.base),
            genCell(p.adapter),
          ),
        ),
      ),
    ),
  );
}

export function jobsCard(jobs) {
  if (!(jobs ?? []).length) return null;
  return h(
    'section',
    { class: 'card', id: 'jobs' },
    h('h2', {}, 'Follow-up jobs'),
    h(
      'table',
      { class: 'data' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Job', 'Kind', 'Status', 'Result or error', 'Finished'].map((t) => h('th', {}, t)),
        ),
      ),
      h(
        'tbody',
        {},
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
    ),
  );
}

function summary(j) {
  const r = j.result;
  if (!r) return '';
  if (j.kind === 'evaluate') return `test loss ${formatNumber(r.test_loss)}, ppl ${formatNumber(r.test_ppl)}`;
  if (j.kind === 'samples') return `${r.prompts.length} prompts, ${r.differing} differ from the base`;
  if (j.kind === 'fuse') return `${r.path} · verified ${String(r.verified)}`;
  return `${r.format}: ${r.path}`;
}

export function artifactsCard(artifacts) {
  if (!(artifacts ?? []).length) return null;
  return h(
    'section',
    { class: 'card', id: 'artifacts' },
    h('h2', {}, 'Artifacts'),
    h(
      'table',
      { class: 'data' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Artifact', 'Kind', 'Size', 'Verified', 'sha256'].map((t) => h('th', {}, t)),
        ),
      ),
      h(
        'tbody',
        {},
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
    ),
  );
}
