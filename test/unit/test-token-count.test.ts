// The token count of `mlx_lm lora --test` run as the worker runs it (python -c, the stand-in's tokenizer, datasets and
// batching): default_loss's mask summed over the scored batches, with truncation, prompt masking and seeded picks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseTestTokens, type TestTokensArgs, testTokensArgv } from '../../src/domain/test-token-count.js';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const MODEL = fileURLToPath(new URL('../../test_data/models/llama-tiny-4bit', import.meta.url));

let tmp: string;

/** A data folder whose test.jsonl holds these rows. */
function data(name: string, rows: unknown[]): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'test.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return dir;
}

const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`).join(' ');

async function count(a: Partial<TestTokensArgs> & { data: string }) {
  const argv = testTokensArgv({ python: 'python3', model: MODEL, batchSize: 1, testBatches: -1, ...a });
  const r = await execa(argv[0]!, argv.slice(1), {
    env: { PYTHONPATH: FIXTURES, PYTHONDONTWRITEBYTECODE: '1' },
    reject: false,
    stdin: 'ignore',
    timeout: 20_000,
  });
  expect(r.exitCode, r.stderr).toBe(0);
  return parseTestTokens(r.stdout);
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-test-tokens-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Stand-in tokenizer: one token per word, text rows get EOS appended; a chat message is role + words + end.
describe('token count of mlx_lm lora --test', { timeout: 30_000 }, () => {
  it('counts every row of a text split: words plus EOS each', async () => {
    expect(await count({ data: data('text', [{ text: words(3) }, { text: words(5) }]) })).toEqual({
      tokens: 4 + 6,
      batches: 2,
    });
  });

  it('drops the last partial batch as upstream does', async () => {
    const d = data('partial', [{ text: words(3) }, { text: words(5) }, { text: words(9) }]);
    expect(await count({ data: d, batchSize: 2 })).toEqual({ tokens: 4 + 6, batches: 1 });
  });

  it('counts a truncated row up to max_seq_length - 1 positions', async () => {
    // 40 words + EOS = 41 tokens; width min(65, 16) = 16; targets 1..15.
    expect(await count({ data: data('long', [{ text: words(40) }]), maxSeqLength: 16 })).toEqual({
      tokens: 15,
      batches: 1,
    });
  });

  it('scores only the completion with mask_prompt, from the prompt offset on', async () => {
    const d = data('chat', [
      {
        messages: [
          { role: 'user', content: words(2) },
          { role: 'assistant', content: words(3) },
        ],
      },
    ]);
    // tokens [user w w end assistant w w w end] = 9; the prompt with the generation prompt is 5 long.
    expect(await count({ data: d })).toEqual({ tokens: 9, batches: 1 });
    expect(await count({ data: d, maskPrompt: true })).toEqual({ tokens: 9 - 5 + 1, batches: 1 });
  });

  it('with fewer test batches than the split, counts the batches the seeded order picks first', async () => {
    const d = data('pick', [{ text: words(1) }, { text: words(10) }, { text: words(100) }]);
    // np.random.seed(0); np.random.permutation(3) = [2, 1, 0]: the 100-word row (101 tokens), then the 10-word one.
    expect(await count({ data: d, testBatches: 1 })).toEqual({ tokens: 101, batches: 1 });
    expect(await count({ data: d, testBatches: 2 })).toEqual({ tokens: 101 + 11, batches: 2 });
  });

  it('reads only a well-formed marked line', () => {
    expect(parseTestTokens('noise\nMLXQ-TEST-TOKENS {"tokens": 12, "batches": 3}\n')).toEqual({
      tokens: 12,
      batches: 3,
    });
    expect(parseTestTokens('MLXQ-TEST-TOKENS {"tokens": -1, "batches": 3}')).toBeNull();
    expect(parseTestTokens('MLXQ-TEST-TOKENS not json')).toBeNull();
    expect(parseTestTokens('Test loss 1.0, Test ppl 2.7.')).toBeNull();
  });
});
