// Pure parsers of what the follow-up tools print: generate's answer and stats, the test loss lines of both tools.

// eslint-disable-next-line no-control-regex -- mlx-lm-lora colours its lines with raw ANSI codes
const ANSI = /\x1b\[[0-9;]*m/g;

export interface Generation {
  text: string;
  promptTokens: number;
  promptTps: number;
  generationTokens: number;
  generationTps: number;
  peakMemoryGb: number;
}

const SEPARATOR = '==========';
const STATS = [
  /^Prompt: (\d+) tokens, ([\d.]+) tokens-per-sec$/,
  /^Generation: (\d+) tokens, ([\d.]+) tokens-per-sec$/,
  /^Peak memory: ([\d.]+) GB$/,
] as const;

/**
 * `mlx_lm generate` verbose output, parsed from the end (the text may contain "="): the three stat lines follow the
 * last separator; the text lies between the first separator and it, after an optional wired-memory warning.
 * Returns null when the output does not have that shape.
 */
export function parseGenerateOutput(stdout: string): Generation | null {
  const lines = stdout.replace(/\r/g, '').replace(/\n+$/, '').split('\n');
  const n = lines.length;
  if (n >= 4 && lines[n - 1] === 'No text generated for this prompt' && lines[n - 2] === SEPARATOR) {
    return {
      text: '',
      promptTokens: 0,
      promptTps: 0,
      generationTokens: 0,
      generationTps: 0,
      peakMemoryGb: 0,
    };
  }
  if (n < 5 || lines[n - 4] !== SEPARATOR) return null;
  const p = STATS[0].exec(lines[n - 3]!);
  const g = STATS[1].exec(lines[n - 2]!);
  const m = STATS[2].exec(lines[n - 1]!);
  if (!p || !g || !m) return null;
  const first = lines.indexOf(SEPARATOR);
  if (first < 0 || first >= n - 4) return null;
  let body = lines.slice(first + 1, n - 4);
  if (body[0]?.startsWith('[WARNING] Generating with a model that requires')) body = body.slice(1);
  return {
    text: body.join('\n'),
    promptTokens: Number(p[1]),
    promptTps: Number(p[2]),
    generationTokens: Number(g[1]),
    generationTps: Number(g[2]),
    peakMemoryGb: Number(m[1]),
  };
}

export interface TestScore {
  test_loss: number;
  test_ppl: number;
}

/** `mlx_lm lora --test`: "Test loss 1.234, Test ppl 3.435." */
export function parseLoraTestOutput(stdout: string): TestScore | null {
  const m = /^Test loss (\S+), Test ppl (\S+)\.$/m.exec(stdout.replace(ANSI, ''));
  if (!m) return null;
  return { test_loss: Number(m[1]), test_ppl: Number(m[2]) };
}

/** `mlx_lm_lora.train --test`: "Test Results:", "  Loss: x", "  Perplexity: y" (FTPO: "FTPO Test loss: x"). */
export function parseTrainerTestOutput(stdout: string): TestScore | null {
  const text = stdout.replace(ANSI, '');
  const loss = /^ {2}Loss: (\S+)$/m.exec(text);
  const ppl = /^ {2}Perplexity: (\S+)$/m.exec(text);
  if (loss && ppl) return { test_loss: Number(loss[1]), test_ppl: Number(ppl[1]) };
  const ftpo = /^FTPO Test loss: (\S+)$/m.exec(text);
  if (ftpo) return { test_loss: Number(ftpo[1]), test_ppl: Math.exp(Number(ftpo[1])) };
  return null;
}

/** Upstream prints tqdm bars on stderr with \r; only the last state of a line is kept. */
export function lastBarState(line: string): string {
  const parts = line.split('\r');
  return parts[parts.length - 1] ?? '';
}

/** Test batches as upstream forms them: length-sorted rows cut into batch_size chunks, the last partial one dropped. */
export function testBatches(rows: number, batchSize: number, requested: number): number {
  const available = Math.floor(rows / batchSize);
  return requested === -1 ? available : Math.min(requested, available);
}
