// Arbitraries of hostile input and the invariant every answer must keep: no 5xx, and every 4xx machine-readable.
import path from 'node:path';

import fc from 'fast-check';
import type { LightMyRequestResponse as InjectResponse } from 'fastify';

import { METHODS } from '../../src/domain/methods.js';
import { RUN_OPTIONS } from '../../src/domain/run-options.js';
import { SERVICE_FIELDS } from '../../src/domain/run-request.js';
import { TEST_DATA } from './test-env.js';

export const HF_MODEL = 'mlx-community/Qwen2.5-0.5B-Instruct-4bit';
export const OPTION_KEYS = [...RUN_OPTIONS.map((o) => o.key), ...SERVICE_FIELDS];
export const DATA_DIRS = [
  'sft-chat',
  'dpo',
  'grpo',
  'prompts',
  'ftpo',
  'orpo',
  'bad/blank-line',
  'bad/invalid-utf8',
].map((d) => path.join(TEST_DATA, d));

/** Strings that have hurt services before: traversal, flags, NUL, shell, encodings, huge, prototype keys. */
const NASTY = [
  '',
  ' ',
  '-',
  '--help',
  '-rf',
  '..',
  '../..',
  '../../../../etc/passwd',
  '/etc/passwd',
  '/',
  '~',
  '~/.ssh/id_rsa',
  '\\\\server\\share',
  '\u0000',
  'a\u0000b',
  '\n',
  'a\r\nb',
  '$(id)',
  '`id`',
  '; rm -rf /',
  '|cat',
  '%00',
  '%2e%2e%2f',
  'dataset:',
  `dataset:${'a'.repeat(64)}`,
  'dataset:../../etc',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'NaN',
  'Infinity',
  '-1',
  '1e309',
  'null',
  'true',
  '[]',
  '{}',
  '\uFEFF',
  '\uD800',
  'x'.repeat(5000),
  HF_MODEL,
  'a/b',
  'a/b/c',
  ...DATA_DIRS,
];

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({
    unit: fc.constantFrom('.', '/', '-', '%', '\\', '~', '$', '`', ';', ' ', 'a', '0', ':', '\u0000', '\n'),
    maxLength: 24,
  }),
);

export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  fc.integer(),
  fc.constantFrom(0, -1, 1, 2 ** 31, 2 ** 53, -(2 ** 53), 0.5, 1e308, -1e-308),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(nastyString, { maxLength: 3 }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** Run requests: anything at all, or near-valid ones with a few hostile values and keys. */
export const runBody: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc
    .tuple(
      fc.record(
        {
          method: fc.oneof(fc.constantFrom(...METHODS), nastyString),
          model: fc.oneof(fc.constant(HF_MODEL), nastyString),
          data: fc.oneof(fc.constantFrom(...DATA_DIRS), nastyString),
          iters: fc.oneof(fc.integer({ min: 1, max: 4 }), nastyValue),
          batch_size: fc.oneof(fc.integer({ min: 1, max: 4 }), nastyValue),
        },
        { requiredKeys: [] },
      ),
      fc.dictionary(fc.oneof(fc.constantFrom(...OPTION_KEYS), nastyString), nastyValue, { maxKeys: 4 }),
    )
    .map(([base, extra]) => ({ ...extra, ...base })),
);

/** encodeURIComponent that survives lone surrogates (they become U+FFFD, as a browser would send them). */
export function enc(s: string): string {
  return encodeURIComponent(
    s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'),
  );
}

/** A query string whose values are hostile, sometimes percent-encoded and sometimes raw (malformed escapes too). */
export function queryString(keys: readonly string[]): fc.Arbitrary<{ qs: string; keys: string[] }> {
  const raw = fc.string({
    unit: fc.constantFrom('a', '1', '%', '=', '&', '+', ';', ',', '.', '~', '_', '-', 'Z'),
    maxLength: 12,
  });
  const pair = fc.tuple(
    fc.oneof(fc.constantFrom(...keys), fc.string({ unit: 'grapheme-ascii', maxLength: 8 })),
    fc.oneof(nastyString.map(enc), raw),
  );
  return fc.array(pair, { maxLength: 4 }).map((pairs) => ({
    qs: pairs.map(([k, v]) => `${enc(k)}=${v}`).join('&'),
    keys: pairs.map(([k]) => k),
  }));
}

export interface Expect {
  /** Field names an issue may name (a body key, a catalogue key, a query key, a path parameter). */
  fields?: ReadonlySet<string>;
  /** Allows the login form's HTML answer. */
  html?: boolean;
}

/** The field an issue path names: its first segment, after a "querystring."/"params."/"headers."/"body." prefix. */
function fieldOf(issuePath: string): string {
  const parts = issuePath.split(/[.[]/);
  return ['querystring', 'params', 'headers', 'body'].includes(parts[0]!) && parts.length > 1
    ? parts[1]!
    : parts[0]!;
}

/** Throws, describing the request, when an answer breaks the invariant. */
export function assertWellFormed(res: InjectResponse, request: string, opts: Expect = {}): void {
  const fail = (why: string) => {
    throw new Error(
      `${why}\n  request: ${request.slice(0, 600)}\n  answer: ${res.statusCode} ${res.body.slice(0, 600)}`,
    );
  };
  if (res.statusCode >= 500) fail('5xx');
  if (res.statusCode < 400) return;
  if (opts.html && String(res.headers['content-type']).startsWith('text/html')) return;
  let body: { error?: unknown; message?: unknown; issues?: unknown };
  try {
    body = res.json();
  } catch {
    return fail('4xx without a JSON body');
  }
  if (typeof body.error !== 'string' || !/^[a-z_]+$/.test(body.error))
    fail('4xx without a machine-readable error code');
  if (typeof body.message !== 'string' || body.message.length === 0) fail('4xx without a message');
  if (body.error !== 'invalid_request') return;
  const issues = body.issues as { path?: unknown; message?: unknown }[] | undefined;
  if (!Array.isArray(issues) || issues.length === 0) return fail('invalid_request without issues');
  for (const issue of issues) {
    if (typeof issue.path !== 'string' || typeof issue.message !== 'string' || issue.message === '')
      fail('malformed issue');
    const named = issue.path as string;
    if (opts.fields && !opts.fields.has(named) && !opts.fields.has(fieldOf(named)))
      fail(`issue path "${String(issue.path)}" names no field of the request`);
  }
}
