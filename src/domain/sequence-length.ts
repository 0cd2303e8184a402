// Pure: how long one dataset record is as a training sequence, in bytes of text, and the tokens that suggests.
import type { DatasetFormat } from './dataset-format.js';

/**
 * No tokenizer runs in the service, so tokens are estimated from UTF-8 bytes: BPE tokenizers average about 4 bytes
 * of English text per token (less for code and non-Latin scripts, so those run longer than estimated).
 */
export const BYTES_PER_TOKEN = 4;

const encoder = new TextEncoder();

function textBytes(value: unknown): number {
  if (typeof value === 'string') return encoder.encode(value).length;
  if (Array.isArray(value)) return value.reduce<number>((sum, v) => sum + textBytes(v), 0);
  if (typeof value === 'object' && value !== null)
    return Object.values(value).reduce<number>((sum, v) => sum + textBytes(v), 0);
  return 0;
}

/**
 * The text bytes of the longest sequence the record becomes: every string in it, except that a preference pair is
 * two sequences (prompt + chosen, prompt + rejected), so only the longer answer counts, and an FTPO row trains on its
 * context alone.
 */
export function sequenceBytes(
  format: DatasetFormat,
  record: Record<string, unknown>,
  keys: { chosen: string; rejected: string } = { chosen: 'chosen', rejected: 'rejected' },
): number {
  if (format === 'ftpo')
    return textBytes(record.context_with_chat_template) + textBytes(record.rejected_decoded);
  const all = textBytes(record);
  if (format === 'preference' || format === 'orpo')
    return all - Math.min(textBytes(record[keys.chosen]), textBytes(record[keys.rejected]));
  return all;
}

export function tokensFromBytes(bytes: number): number {
  return Math.ceil(bytes / BYTES_PER_TOKEN);
}

/** The longest sequences of a dataset, as measured while it is validated. */
export interface SequenceLengths {
  /** Records measured (train and valid). */
  rows: number;
  longestBytes: number;
  meanBytes: number;
  /** longestBytes / BYTES_PER_TOKEN, rounded up: an estimate, not a tokenizer count. */
  longestTokensEstimate: number;
  basis: string;
}

export class SequenceLengthTracker {
  private rows = 0;
  private total = 0;
  private longest = 0;

  add(
    format: DatasetFormat,
    record: Record<string, unknown>,
    keys?: { chosen: string; rejected: string },
  ): void {
    const bytes = sequenceBytes(format, record, keys);
    this.rows++;
    this.total += bytes;
    if (bytes > this.longest) this.longest = bytes;
  }

  result(): SequenceLengths | null {
    if (this.rows === 0) return null;
    return {
      rows: this.rows,
      longestBytes: this.longest,
      meanBytes: Math.round(this.total / this.rows),
      longestTokensEstimate: tokensFromBytes(this.longest),
      basis: `estimated from UTF-8 bytes at ≈${BYTES_PER_TOKEN} bytes per token (no tokenizer is run)`,
    };
  }
}
