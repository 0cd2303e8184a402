// The trainer-output parser on one fixture per print format (test/fixtures/output), each against the events it must
// give (its speed is the benchmark figure bench/figures/output-parser.ts).
import { describe, expect, it } from 'vitest';

import { cases, fixture, parseAll } from '../helpers/trainer-output-cases.js';

describe('createTrainerOutputParser: one fixture per print format', () => {
  it.each(cases)('$format ($file)', ({ file, expected }) => {
    expect(parseAll(fixture(file))).toEqual(expected);
  });
});
