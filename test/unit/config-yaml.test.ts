// config.yaml goes through Python's PyYAML (YAML 1.1, as mlx-lm-lora reads it) and every value arrives as written.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { buildCommand } from '../../src/domain/build-command.js';
import { parseRunRequest } from '../../src/domain/run-request.js';
import { formatNumber, stringifyYaml11 } from '../../src/domain/yaml11.js';
import { readBack, trainerArgs } from '../helpers/readback.js';

/** Strings YAML 1.1 reads as something else when left unquoted, or that break its scanner. */
const TRICKY = [
  'yes',
  'no',
  'on',
  'off',
  'y',
  'n',
  'Y',
  'N',
  'YES',
  'On',
  'true',
  'False',
  '~',
  'null',
  'Null',
  '',
  ' ',
  '12:30',
  '1:20:30',
  '1_000',
  '0x1F',
  '0b101',
  '0o17',
  '017',
  '1e3',
  '1.5e-7',
  '.5',
  '-.inf',
  '.NaN',
  '+1',
  '2026-11-30',
  '2026-11-30 12:00:00',
  '=',
  '<<',
  '*anchor',
  '&a',
  '!tag',
  '%x',
  '@x',
  '`x',
  '|',
  '>',
  '? x',
  '- x',
  '#x',
  'a # b',
  'a: b',
  '[x]',
  '{x}',
  '"',
  "'",
  '\\',
  '\t',
  'a\tb',
  ' lead',
  'trail ',
  '\n',
  'a\nb',
  'a\r\nb',
  '\u0085',
  '\u2028',
  '\u00a0',
  '\ufeff',
  '\u0000',
  '\u0007',
  '\u001b[31m',
  '\u007f',
  'é',
  '日本語',
  '😀',
  '\ud800',
  'x\udfff',
  'μ σ •',
  '---',
  '...',
];

const anyString = fc.oneof(
  fc.constantFrom(...TRICKY),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 12 }),
  fc.array(fc.constantFrom(...TRICKY), { maxLength: 4 }).map((parts) => parts.join('')),
);

const number = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(1e-7, -1e-7, 1e21, -2.5e-8, 1e300, 5e-324, 0.1, -0, 2 ** 53, 2 ** 60, 1e-5),
);

const scalar = fc.oneof(anyString, number, fc.boolean(), fc.constant(null));

const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(anyString, tie('value'), { maxKeys: 4 }),
}));

const doc = fc.dictionary(
  fc.oneof(fc.constantFrom('fuse', 'on', 'y', 'no', 'null', 'text_feature'), anyString),
  value,
  { maxKeys: 6 },
);

describe('stringifyYaml11', () => {
  it('writes documents that PyYAML and upstream loader read back exactly (property, one Python per batch)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(doc, { minLength: 150, maxLength: 150 }), async (docs) => {
        const yamls = docs.map((d) => ({ text: stringifyYaml11(d), expected: d }));
        const { yamls: loaded } = await readBack({ yamls });
        loaded.forEach((r, i) => {
          expect({ ...r, text: yamls[i]!.text }).toMatchObject({ safe_load: true, upstream: true });
        });
      }),
      { numRuns: 4 },
    );
  }, 120_000);

  it.each([
    [1e-7, '1.0e-7'],
    [1.5e-7, '1.5e-7'],
    [1e21, '1.0e+21'],
    [-2e25, '-2.0e+25'],
    [0.5, '0.5'],
    [-5, '-5'],
    [1000, '1000'],
    [NaN, '.nan'],
    [Infinity, '.inf'],
    [-Infinity, '-.inf'],
  ])('writes %s as the YAML 1.1 number %s', (n, text) => {
    expect(formatNumber(n)).toBe(text);
  });

  it('quotes every string and the keys YAML 1.1 would read as booleans', () => {
    expect(stringifyYaml11({ system_feature: 'yes', on: 'no', y: 1, text: 'a\tb' })).toBe(
      'system_feature: "yes"\n"on": "no"\n"y": 1\ntext: "a\\tb"\n',
    );
  });
});

const feature = anyString.filter(
  (s) => s.length > 0 && s.length <= 512 && !s.startsWith('-') && !/[\0\r\n]/.test(s),
);

const request = fc.record({
  text_feature: feature,
  answer_feature: feature,
  system_feature: feature,
  judge: fc.constant('judge/model'),
  judge_config: fc.record({ system_prompt: anyString }),
  optimizer_config: fc.record({ adam: fc.dictionary(anyString, value, { maxKeys: 3 }) }),
  lora_parameters: fc.record({
    rank: fc.integer({ min: 1, max: 1024 }),
    dropout: fc.double({ min: 0, max: 0.99, noNaN: true }),
    scale: fc.double({ min: 1e-9, max: 1e9, noNaN: true }),
  }),
});

describe('the run config.yaml', () => {
  it('carries YAML-only strings and objects of any content, as the request gave them, through PyYAML (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 60, maxLength: 60 }), async (extras) => {
        const built = extras.map((extra) => {
          const body = { method: 'online_dpo', model: 'm/x', data: 'd', iters: 5, ...extra };
          const { request: req } = parseRunRequest(body);
          return { extra, command: buildCommand(req, { python: 'python3', runDir: '/runs/r1' }) };
        });
        const { yamls, argvs } = await readBack({
          yamls: built
            .map((b) => ({
              text: b.command.configYaml,
              expected: { fuse: false, ...b.extra, judge: undefined },
            }))
            .map((y) => ({ ...y, expected: JSON.parse(JSON.stringify(y.expected)) as unknown })),
          argvs: built.map((b) => trainerArgs(b.command.argv)),
        });
        yamls.forEach((r, i) =>
          expect({ ...r, text: built[i]!.command.configYaml }).toMatchObject({
            safe_load: true,
            upstream: true,
          }),
        );
        argvs.forEach((r) => expect(r).toMatchObject({ ok: true }));
      }),
      { numRuns: 2 },
    );
  }, 120_000);
});
