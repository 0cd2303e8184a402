// A record's text bytes are counted without encoding (utf8Length): the count must be TextEncoder's for any string,
// lone surrogates included (they encode as U+FFFD, 3 bytes), and a record's count must be that of its strings.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { sequenceBytes, utf8Length } from '../../src/domain/sequence-length.js';

const encoded = (s: string) => new TextEncoder().encode(s).length;

describe('utf8Length', () => {
  it('is the UTF-8 length TextEncoder gives, for any string', () => {
    const samples = [
      '',
      'ascii',
      'héllo wörld',
      '日本語テキスト',
      'emoji 😀 ok',
      'lone \ud800 x',
      'end \ud83d',
      '\udc00 first',
    ];
    for (const s of samples) expect(utf8Length(s), JSON.stringify(s)).toBe(encoded(s));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 64 }),
          fc.string({ unit: 'grapheme', maxLength: 32 }),
          fc.string({ maxLength: 200 }),
        ),
        (s) => {
          expect(utf8Length(s)).toBe(encoded(s));
        },
      ),
      { numRuns: 3000, seed: 22 },
    );
  });

  it("a record's bytes are its strings' bytes, keys and numbers not counted", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            role: fc.string({ unit: 'binary', maxLength: 10 }),
            content: fc.string({ unit: 'grapheme', maxLength: 40 }),
          }),
          { maxLength: 5 },
        ),
        (messages) => {
          const want = messages.reduce((n, m) => n + encoded(m.role) + encoded(m.content), 0);
          expect(sequenceBytes('sft:chat', { messages, weight: 3 })).toBe(want);
        },
      ),
      { numRuns: 500, seed: 22 },
    );
  });
});
