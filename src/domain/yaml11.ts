// Pure: writes YAML that PyYAML (YAML 1.1, how mlx-lm-lora reads config.yaml) loads back with every value and type.
//
// YAML 1.2 writers leave `yes`, `on`, `12:30`, `1_000` or `0b101` unquoted, which YAML 1.1 reads as booleans and
// numbers, and a raw tab makes PyYAML's scanner fail. So every string is double-quoted with escapes for what PyYAML
// will not take raw, every float carries a dot and a signed exponent (YAML 1.1's float syntax; `1e-5` would be a
// string), and keys are quoted unless they are plain identifiers that YAML 1.1 reads as themselves.

/** Words a YAML 1.1 resolver turns into something other than a string (booleans, null, merge, value). */
const SPECIAL_WORD = /^(?:y|n|yes|no|true|false|on|off|null)$/i;
const PLAIN_KEY = /^[A-Za-z][A-Za-z0-9_]*$/;

const ESCAPES: Readonly<Record<string, string>> = {
  '\0': '\\0',
  '\x07': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '\x1b': '\\e',
  '"': '\\"',
  '\\': '\\\\',
  '\x85': '\\N',
  '\u2028': '\\L',
  '\u2029': '\\P',
};

const hex = (code: number, width: number): string => code.toString(16).toUpperCase().padStart(width, '0');

/**
 * Characters escaped inside a double-quoted scalar: the escapes above, then whatever PyYAML's reader refuses
 * raw (C0/C1 controls, DEL, U+FEFF, U+FFFE/U+FFFF and unpaired surrogates, which UTF-8 cannot even carry).
 */
const NEEDS_ESCAPE =
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
  /[\0-\x1f"\\\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

export function quoteString(s: string): string {
  return `"${s.replace(NEEDS_ESCAPE, (c) => ESCAPES[c] ?? (c.charCodeAt(0) <= 0xff ? `\\x${hex(c.charCodeAt(0), 2)}` : `\\u${hex(c.charCodeAt(0), 4)}`))}"`;
}

export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return '.nan';
  if (!Number.isFinite(n)) return n > 0 ? '.inf' : '-.inf';
  // Integers print without an exponent up to 1e21, and PyYAML reads them back exactly as ints.
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const text = String(n);
  const e = text.indexOf('e');
  if (e < 0) return text;
  const mantissa = text.slice(0, e);
  const exponent = text.slice(e + 1);
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}e${/^[+-]/.test(exponent) ? exponent : `+${exponent}`}`;
}

function formatKey(key: string): string {
  return PLAIN_KEY.test(key) && !SPECIAL_WORD.test(key) ? key : quoteString(key);
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'bigint') return value.toString();
  return quoteString(String(value));
}

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const entriesOf = (o: Record<string, unknown>) => Object.entries(o).filter(([, v]) => v !== undefined);

/** The text after `key:` or `-`: a scalar or empty collection on the same line, else a nested block below. */
function node(value: unknown, indent: string): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return ' []\n';
    return '\n' + value.map((item) => `${indent}-${node(item, `${indent}  `)}`).join('');
  }
  if (isMapping(value)) {
    const entries = entriesOf(value);
    if (entries.length === 0) return ' {}\n';
    return '\n' + entries.map(([k, v]) => `${indent}${formatKey(k)}:${node(v, `${indent}  `)}`).join('');
  }
  return ` ${scalar(value)}\n`;
}

/** A YAML 1.1 document of a mapping (keys in insertion order; undefined values left out). */
export function stringifyYaml11(doc: Record<string, unknown>): string {
  const entries = entriesOf(doc);
  if (entries.length === 0) return '{}\n';
  return entries.map(([k, v]) => `${formatKey(k)}:${node(v, '  ')}`).join('');
}
