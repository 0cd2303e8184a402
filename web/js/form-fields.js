// One form field per request key, built from a GET /v1/methods parameter: control, hint, value in and out, messages.
// @ts-check
import { fill, formatNumber, h } from './dom.js';

/** @typedef {import('../../src/contract/methods.js').MethodParameter} MethodParameter */
/**
 * What a field is built from: a GET /v1/methods parameter, or a service field described the same way (with the
 * keys it needs, and `tags` for a comma-separated list).
 * @typedef {Pick<MethodParameter, 'key' | 'description'>
 *   & Partial<Omit<MethodParameter, 'key' | 'description' | 'type'>>
 *   & { type: MethodParameter['type'] | 'tags' }} FieldSpec
 */
/** @typedef {'error' | 'warn'} MessageKind */

/**
 * The service's own fields, described like mlx-lm-lora parameters so they render the same way.
 * @type {FieldSpec[]}
 */
export const SERVICE_PARAMETERS = [
  { key: 'name', type: 'string', description: 'A name to find the run by (optional).' },
  { key: 'tags', type: 'tags', description: 'Comma-separated labels, for filtering the run list.' },
  {
    key: 'priority',
    type: 'int',
    default: 0,
    min: 0,
    max: 100,
    description: 'Higher runs sooner (0 to 100).',
  },
  {
    key: 'fuse',
    type: 'bool',
    default: false,
    description: 'Write a fused model next to the adapters after training.',
  },
  {
    key: 'placement',
    type: 'object',
    description:
      'Where it may train (optional): a worker by name, a worker with at least this much memory, workers with all these labels.',
  },
];

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/**
 * "default 4 · recommended 1 to 64 · at least 1": what the server will accept and advise, in words.
 * @param {FieldSpec} p
 */
export function constraintText(p) {
  const parts = [];
  if (p.fixed) parts.push(`fixed to ${formatNumber(p.default)} for this method`);
  else if (p.default !== null && p.default !== undefined)
    parts.push(`default ${typeof p.default === 'number' ? formatNumber(p.default) : String(p.default)}`);
  if (p.recommended)
    parts.push(`recommended ${formatNumber(p.recommended.min)} to ${formatNumber(p.recommended.max)}`);
  const lower =
    p.min != null
      ? `≥ ${formatNumber(p.min)}`
      : p.exclusiveMin != null
        ? `> ${formatNumber(p.exclusiveMin)}`
        : null;
  const upper =
    p.max != null
      ? `≤ ${formatNumber(p.max)}`
      : p.exclusiveMax != null
        ? `< ${formatNumber(p.exclusiveMax)}`
        : null;
  if (lower || upper) parts.push([lower, upper].filter(Boolean).join(' and '));
  if (p.yamlOnly) parts.push('goes into config.yaml');
  return parts.join(' · ');
}

export class Field {
  /**
   * @param {FieldSpec} p
   * @param {{ wide?: boolean }} [options]
   */
  constructor(p, { wide = false } = {}) {
    this.p = p;
    this.key = p.key;
    this.id = `f-${p.key}`;
    /** @type {HTMLInputElement | null} the control of a bool field */
    this.checkbox = null;
    this.control = this.buildControl();
    this.msg = h('div', { class: 'msg', id: `${this.id}-msg`, 'aria-live': 'polite' });
    const constraints = constraintText(p);
    const label =
      p.type === 'bool'
        ? h(
            'label',
            { class: 'check', for: this.id },
            this.control,
            h('span', {}, titleOf(p.key)),
            h('span', { class: 'key' }, p.key),
          )
        : h(
            'label',
            { for: this.id },
            titleOf(p.key),
            p.required ? ' *' : '',
            h('span', { class: 'key' }, p.key),
          );
    this.el = h(
      'div',
      { class: `field${wide || p.type === 'object' ? ' wide' : ''}`, 'data-key': p.key },
      label,
      p.type === 'bool' ? null : this.control,
      h('div', { class: 'hint' }, [p.description, constraints].filter(Boolean).join(' — ')),
      this.msg,
    );
  }

  /** @returns {HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement} */
  buildControl() {
    const p = this.p;
    const common = {
      id: this.id,
      name: p.key,
      'aria-describedby': `${this.id}-msg`,
      disabled: p.fixed || null,
    };
    switch (p.type) {
      case 'bool':
        this.checkbox = h('input', {
          ...common,
          type: 'checkbox',
          checked: p.fixed ? p.default === true : p.default === true,
        });
        return this.checkbox;
      case 'choice':
        return h(
          'select',
          common,
          h('option', { value: '' }, p.default != null ? `default (${p.default})` : '(not set)'),
          (p.choices ?? []).map((c) => h('option', { value: c, selected: p.fixed && c === p.default }, c)),
        );
      case 'object':
        return h('textarea', {
          ...common,
          rows: 3,
          spellcheck: 'false',
          placeholder: objectPlaceholder(p.key),
        });
      case 'int':
      case 'float':
        return h('input', {
          ...common,
          type: 'text',
          inputmode: p.type === 'int' ? 'numeric' : 'decimal',
          autocomplete: 'off',
          placeholder: p.fixed ? String(p.default) : p.default != null ? String(p.default) : '',
        });
      default:
        return h('input', {
          ...common,
          type: 'text',
          autocomplete: 'off',
          spellcheck: 'false',
          placeholder: placeholderFor(p),
        });
    }
  }

  /**
   * The value to send, `undefined` to leave the key out (the server's default), or {error} for unreadable JSON.
   * @returns {unknown}
   */
  read() {
    const p = this.p;
    if (p.fixed) return undefined;
    if (this.checkbox)
      return this.checkbox.checked === (p.default === true) ? undefined : this.checkbox.checked;
    const raw = this.control.value.trim();
    if (raw === '') return undefined;
    switch (p.type) {
      case 'int':
      case 'float':
        // Anything that is not a plain number goes as typed, so the server's message names what is wrong.
        return NUMBER.test(raw) ? Number(raw) : raw;
      case 'tags':
        return raw
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean);
      case 'object':
        try {
          return JSON.parse(raw);
        } catch (err) {
          return { error: `is not valid JSON (${err instanceof Error ? err.message : String(err)})` };
        }
      default:
        return raw;
    }
  }

  /**
   * Puts a value from an earlier request into the control.
   * @param {unknown} value
   */
  write(value) {
    if (this.p.fixed || value === undefined || value === null) return;
    if (this.checkbox) this.checkbox.checked = value === true;
    else if (this.p.type === 'object') this.control.value = JSON.stringify(value, null, 2);
    else if (Array.isArray(value))
      this.control.value = this.key === 'reward_weights' ? JSON.stringify(value) : value.join(', ');
    else this.control.value = String(value);
  }

  /**
   * Raw control state, to carry typed values across a method switch.
   * @returns {boolean | string}
   */
  raw() {
    return this.checkbox ? this.checkbox.checked : this.control.value;
  }

  /** @param {boolean | string} raw what raw() gave */
  restore(raw) {
    if (this.p.fixed) return;
    if (this.checkbox) this.checkbox.checked = raw === true;
    else this.control.value = String(raw);
  }

  /**
   * @param {MessageKind | null} kind
   * @param {string[]} [texts]
   */
  setMessage(kind, texts) {
    this.el.classList.toggle('has-error', kind === 'error');
    this.el.classList.toggle('has-warn', kind === 'warn');
    this.control.setAttribute('aria-invalid', kind === 'error' ? 'true' : 'false');
    this.msg.className = `msg ${kind ?? ''}`;
    if (!texts || texts.length === 0) fill(this.msg);
    else if (texts.length === 1) fill(this.msg, texts[0]);
    else
      fill(
        this.msg,
        h(
          'ul',
          { class: 'problems' },
          texts.map((t) => h('li', {}, t)),
        ),
      );
  }
}

/** @type {Record<string, string>} */
const WORDS = {
  sft: 'SFT',
  qat: 'QAT',
  lora: 'LoRA',
  kl: 'KL',
  dpo: 'DPO',
  cpo: 'CPO',
  grpo: 'GRPO',
  mse: 'MSE',
  lm: 'LM',
  mxfp4: 'MXFP4',
  wandb: 'W&B',
  '4bits': '4 bits',
  '6bits': '6 bits',
  '8bits': '8 bits',
};

/** @param {string} key */
function titleOf(key) {
  const words = key.split('_').map((w) => WORDS[w] ?? w);
  const s = words.join(' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** @param {FieldSpec} p */
function placeholderFor(p) {
  if (p.key === 'model') return 'mlx-community/Qwen2.5-0.5B-Instruct-4bit';
  if (p.key === 'data') return './test_data/sft-chat or dataset:<sha256>';
  if (p.key === 'reward_functions') return 'r1_accuracy_reward_func, r1_count_xml';
  if (p.key === 'reward_weights') return '[0.8, 0.2]';
  return p.default != null ? String(p.default) : '';
}

/** @param {string} key */
function objectPlaceholder(key) {
  if (key === 'lora_parameters') return '{"rank": 16, "dropout": 0.0, "scale": 20}';
  if (key === 'lr_schedule')
    return '{"name": "cosine_decay", "warmup": 100, "arguments": [1e-5, 1000, 1e-7]}';
  if (key === 'optimizer_config') return '{"adamw": {"weight_decay": 0.01}}';
  if (key === 'judge_config') return '{"system_prompt": "…"}';
  if (key === 'placement') return '{"worker": "studio-1", "min_memory_gb": 64, "labels": ["studio"]}';
  return '{}';
}
