import { describe, expect, it } from 'vitest';

import { LineSplitter } from '../../src/worker/line-splitter.js';

function split(chunks: (string | Buffer)[]): string[] {
  const lines: string[] = [];
  const s = new LineSplitter((l) => lines.push(l));
  for (const c of chunks) s.push(c);
  s.end();
  return lines;
}

describe('LineSplitter', () => {
  it('splits on \\n, \\r\\n and bare \\r', () => {
    expect(split(['a\nb\r\nc\rd'])).toEqual(['a', 'b', 'c', 'd']);
  });
  it('keeps blank lines between newlines', () => {
    expect(split(['a\n\nb\n'])).toEqual(['a', '', 'b']);
  });
  it('joins lines cut across chunks, including a \\r\\n pair split in two', () => {
    expect(split(['ab', 'c\r', '\nd', 'e\n'])).toEqual(['abc', 'de']);
  });
  it('decodes multi-byte UTF-8 cut across chunks', () => {
    const bytes = Buffer.from('μ=1.0\n');
    expect(split([bytes.subarray(0, 1), bytes.subarray(1)])).toEqual(['μ=1.0']);
  });
  it('treats tqdm redraws as separate lines', () => {
    expect(split(['Training:  10%|█ | 1/10\rTraining:  20%|██ | 2/10\r'])).toEqual([
      'Training:  10%|█ | 1/10',
      'Training:  20%|██ | 2/10',
    ]);
  });
});
