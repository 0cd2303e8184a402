// /ui/submit: a run form built from GET /v1/methods, a dry run that shows the command, and the server's messages per field.
// @ts-check
/* global location, URLSearchParams */
import { api, ApiError } from './api.js';
import { fill, h } from './dom.js';
import { Field, SERVICE_PARAMETERS } from './form-fields.js';
import { COMMON_OPTION_KEYS, RUN_KEYS } from './generated/domain.js';
import { errorBanner, mountShell } from './layout.js';
import { dryRunCard } from './submit-result.js';

const TRAINING_KEYS = [
  'batch_size',
  'learning_rate',
  'train_type',
  'lora_parameters',
  'num_layers',
  'max_seq_length',
  'optimizer',
  'steps_per_report',
  'steps_per_eval',
  'save_every',
  'val_batches',
  'seed',
  'grad_checkpoint',
  'gradient_accumulation_steps',
];

const main = mountShell('submit', 'Submit a run');
const banner = h('div');
const methodSelect = h('select', { id: 'f-method', name: 'method' });
const methodInfo = h('div', { class: 'method-info', id: 'method-info' });
const sections = h('div');
const summary = h('div', { id: 'form-errors' });
const statusText = h('span', { class: 'sub', id: 'form-status', 'aria-live': 'polite' });
const result = h('div', { id: 'dry-run' });
const dryRunButton = h(
  'button',
  { type: 'button', id: 'dry-run-button', onclick: () => void send(true) },
  'Dry run',
);
const submitButton = h('button', { type: 'submit', class: 'primary', id: 'submit-button' }, 'Submit run');
const form = h(
  'form',
  { class: 'run-form', novalidate: true, onsubmit: (e) => (e.preventDefault(), void send(false)) },
  h(
    'fieldset',
    {},
    h('legend', {}, 'Method'),
    h('div', { class: 'field wide', 'data-key': 'method' }, methodSelect, methodInfo),
  ),
  sections,
  h('div', { class: 'actions' }, dryRunButton, submitButton, statusText, summary),
);
main.append(h('div', { class: 'page-head' }, h('h1', {}, 'Submit a run')), banner, form, result);

/** @typedef {import('../../src/contract/runs.js').SubmittedRun} SubmittedRun */
/** @typedef {import('../../src/contract/runs.js').DryRun} DryRun */
/** @typedef {import('../../src/contract/common.js').FieldIssue} FieldIssue */
/** @typedef {import('../../src/contract/common.js').FileIssue} FileIssue */
/** @typedef {import('./form-fields.js').FieldSpec} FieldSpec */

/** @type {import('../../src/contract/methods.js').MethodEntry[]} */
let methods = [];
/** @type {Set<string>} */
const commonKeys = new Set(COMMON_OPTION_KEYS);
/** @type {Map<string, Field>} */
let fields = new Map();

/** @param {string} method */
function describe(method) {
  return methods.find((m) => m.method === method) ?? methods[0];
}

/**
 * Rebuilds the fields for a method, keeping what was typed into keys the new method also has.
 * @param {string} method
 * @param {Map<string, boolean | string>} [carry] raw control states by key
 */
function buildFields(method, carry = new Map()) {
  const m = describe(method);
  fields = new Map();
  /** @param {FieldSpec} p */
  const make = (p) => {
    const f = new Field(p, { wide: p.key === 'model' || p.key === 'data' });
    fields.set(p.key, f);
    const raw = carry.get(p.key);
    if (raw !== undefined) f.restore(raw);
    return f.el;
  };
  const byKey = new Map(m.parameters.map((p) => [p.key, p]));
  const run = [...RUN_KEYS.map((k) => byKey.get(k)).filter((p) => p !== undefined), ...SERVICE_PARAMETERS];
  // QAT applies to a few methods but is an advanced switch, not what makes the method: it goes under More options.
  const specific = m.parameters.filter(
    (p) => !commonKeys.has(p.key) && !RUN_KEYS.includes(p.key) && !p.key.startsWith('qat_'),
  );
  const training = TRAINING_KEYS.map((k) => byKey.get(k)).filter((p) => p !== undefined);
  const placed = new Set([...run, ...specific, ...training].map((p) => p.key));
  const more = m.parameters.filter((p) => !placed.has(p.key));
  /**
   * @param {string} legend
   * @param {FieldSpec[]} params
   * @param {string} [id]
   */
  const fieldset = (legend, params, id) =>
    h('fieldset', { id }, h('legend', {}, legend), h('div', { class: 'fields' }, params.map(make)));
  fill(
    sections,
    fieldset('Run', run, 'section-run'),
    specific.length ? fieldset(`${m.title} options`, specific, 'section-method') : null,
    fieldset('Training', training, 'section-training'),
    h(
      'details',
      { class: 'more', id: 'section-more' },
      h('summary', {}, `More options (${more.length})`),
      fieldset('More options', more),
    ),
  );
  fill(
    methodInfo,
    h('p', {}, m.description),
    m.notes?.length
      ? h(
          'ul',
          { class: 'problems' },
          m.notes.map((n) => h('li', {}, n)),
        )
      : null,
    m.rewardFunctions
      ? h('p', {}, 'Built-in reward functions: ', h('code', {}, m.rewardFunctions.join(', ')))
      : null,
    h(
      'details',
      {},
      h('summary', {}, 'Dataset record format'),
      h('pre', { class: 'block' }, JSON.stringify(m.sampleRecord, null, 2)),
    ),
  );
}

/** The request body, or the fields the browser could not even read (JSON that does not parse). */
function collect() {
  /** @type {Record<string, unknown>} */
  const body = { method: methodSelect.value };
  /** @type {FieldIssue[]} */
  const issues = [];
  for (const [key, field] of fields) {
    const value = field.read();
    if (value === undefined) continue;
    if (
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      'error' in value &&
      typeof value.error === 'string' &&
      Object.keys(value).length === 1
    )
      issues.push({ path: key, message: value.error });
    else body[key] = value;
  }
  return { body, issues };
}

function clearMessages() {
  for (const f of fields.values()) f.setMessage(null, []);
  fill(summary);
}

/**
 * Puts each issue next to its field (by the first part of its path); the rest go in the summary above the buttons.
 * @param {FieldIssue[]} issues
 * @param {FileIssue[]} problems
 * @param {import('./form-fields.js').MessageKind} [kind]
 */
function showIssues(issues, problems, kind = 'error') {
  /** @type {Map<Field, string[]>} */
  const byField = new Map();
  /** @type {string[]} */
  const loose = [];
  for (const issue of issues) {
    const key = String(issue.path ?? '')
      .replace(/^body\.?/, '')
      .split('.')[0];
    const field = fields.get(key);
    const text = issue.path && issue.path !== key ? `${issue.path}: ${issue.message}` : issue.message;
    if (field) byField.set(field, [...(byField.get(field) ?? []), text]);
    else loose.push(`${issue.path || 'request'}: ${issue.message}`);
  }
  if (problems.length) {
    const data = fields.get('data');
    const texts = problems.map((p) => `${p.file}${p.line ? ` line ${p.line}` : ''}: ${p.message}`);
    if (data) byField.set(data, [...(byField.get(data) ?? []), ...texts]);
    else loose.push(...texts);
  }
  for (const [field, texts] of byField) {
    field.setMessage(kind, texts);
    const details = field.el.closest('details');
    if (details) details.open = true;
  }
  if (kind === 'error') {
    const count = byField.size + loose.length;
    fill(
      summary,
      h(
        'div',
        { class: 'form-error', role: 'alert' },
        issues.length === 0 && problems.length
          ? `The dataset has ${problems.length} problem${problems.length === 1 ? '' : 's'}: see the data field.`
          : `The server refused the request: ${count} field${count === 1 ? '' : 's'} to fix.`,
        loose.length
          ? h(
              'ul',
              { class: 'problems' },
              loose.map((t) => h('li', {}, t)),
            )
          : null,
      ),
    );
    const first = [...byField.keys()][0];
    first?.control.focus({ preventScroll: true });
    first?.el.scrollIntoView({ block: 'center' });
  }
}

/** @param {boolean} dryRun */
async function send(dryRun) {
  clearMessages();
  fill(result);
  const { body, issues } = collect();
  if (issues.length) return showIssues(issues, []);
  dryRunButton.disabled = submitButton.disabled = true;
  fill(statusText, dryRun ? 'Checking the request and the dataset…' : 'Submitting…');
  try {
    const answer = /** @type {SubmittedRun | DryRun} */ (
      await api(`/v1/runs${dryRun ? '?dryRun=true' : ''}`, { method: 'POST', body })
    );
    if (answer.warnings?.length) showIssues(answer.warnings, [], 'warn');
    if (!dryRun) {
      fill(statusText, 'Queued. Opening the run…');
      location.assign(`/ui/runs/${encodeURIComponent(/** @type {SubmittedRun} */ (answer).id)}`);
      return;
    }
    fill(statusText, 'The request is valid.');
    fill(result, dryRunCard(/** @type {DryRun} */ (answer), body));
    result.scrollIntoView({ block: 'start' });
  } catch (err) {
    fill(statusText);
    if (err instanceof ApiError && (err.status === 400 || err.status === 422))
      showIssues(err.issues, err.problems);
    else fill(summary, errorBanner(err));
  } finally {
    dryRunButton.disabled = submitButton.disabled = false;
  }
}

/**
 * "Run again with changes": the form filled from an earlier run's request.
 * @param {string} runId
 */
async function prefill(runId) {
  const run = /** @type {import('../../src/contract/runs.js').RunDetail} */ (
    await api(`/v1/runs/${encodeURIComponent(runId)}`)
  );
  const request = run.request ?? {};
  methodSelect.value = String(request.method ?? run.method);
  buildFields(methodSelect.value);
  for (const [key, value] of Object.entries(request)) fields.get(key)?.write(value);
  fill(
    banner,
    h(
      'div',
      { class: 'banner info', id: 'prefill-note' },
      'Filled in from run ',
      h('a', { href: `/ui/runs/${encodeURIComponent(run.id)}` }, run.name || run.id),
      '. Change what you like; submitting creates a new run.',
    ),
  );
}

try {
  ({ methods } = /** @type {import('../../src/contract/methods.js').MethodCatalogue} */ (
    await api('/v1/methods')
  ));
  methodSelect.append(...methods.map((m) => h('option', { value: m.method }, `${m.method} · ${m.title}`)));
  methodSelect.addEventListener('change', () => {
    const carry = new Map([...fields].map(([k, f]) => [k, f.raw()]));
    buildFields(methodSelect.value, carry);
  });
  const from = new URLSearchParams(location.search).get('from');
  if (from) await prefill(from);
  else buildFields(methodSelect.value);
} catch (err) {
  fill(banner, errorBanner(err));
}
