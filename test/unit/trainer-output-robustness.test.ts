// The trainer-output parser under random input: fuzzed lines never throw and give only well-formed events, and
// stripAnsi removes every escape sequence upstream prints.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { createTrainerOutputParser, stripAnsi } from '../../src/domain/trainer-output.js';
import { cases, fixture } from '../helpers/trainer-output-cases.js';

describe('stripAnsi', () => {
  it.each([
    ['\x1b[94m[INFO]\x1b[0m Loading', '[INFO] Loading'],
    ['\x1b[1m\x1b[97mTitle\x1b[0m', 'Title'],
    ['\x1b[AUp \x1b[2KClear \x1b[?25lHide', 'Up Clear Hide'],
    ['\x1b]0;title\x07text', 'text'],
    ['cut at end \x1b[3', 'cut at end '],
    ['plain μ σ •', 'plain μ σ •'],
  ])('%j -> %j', (input, output) => {
    expect(stripAnsi(input)).toBe(output);
  });
});

describe('createTrainerOutputParser: robustness and speed', () => {
  const fixtureLines = cases.flatMap(({ file }) => fixture(file).split(/\r|\n/));
  const tokens = [
    'Iter ',
    '12',
    ':',
    ' ',
    ', ',
    'loss ',
    'Val loss ',
    'nan',
    '-inf',
    '1.000e-05',
    'GB',
    '=',
    '='.repeat(80),
    '  • ',
    'μ=',
    'σ=',
    'cov=',
    '%',
    'Test Results:',
    '  Loss: ',
    ' Test Metrics:',
    'Training: ',
    '|',
    '/',
    '[ERROR]',
    '\x1b[',
    'm',
    'Error',
    ': error: ',
    ' and ',
    '.',
    'Saved final weights to ',
    'é',
    '\u0000',
  ];
  const lineArb = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 120 }),
    fc.array(fc.constantFrom(...tokens), { maxLength: 20 }).map((parts) => parts.join('')),
    fc
      .tuple(fc.constantFrom(...fixtureLines), fc.nat(), fc.string({ maxLength: 3 }))
      .map(([line, cut, extra]) => line.slice(0, cut % (line.length + 1)) + extra),
  );

  it('never throws on random lines and only emits well-formed events', () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 60 }), (lines) => {
        const parser = createTrainerOutputParser();
        const events = [...lines.flatMap((line) => parser.push(line)), ...parser.end()];
        for (const event of events) {
          if (event.kind === 'metrics') {
            expect(Number.isInteger(event.iteration)).toBe(true);
            for (const point of event.points) expect(typeof point.value).toBe('number');
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on non-string input from untyped callers', () => {
    const parser = createTrainerOutputParser();
    expect(parser.push(undefined as unknown as string)).toEqual([]);
    expect(parser.push(42 as unknown as string)).toEqual([]);
  });
});
