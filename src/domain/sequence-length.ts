// Pure: how long one dataset record is as a training sequence, in bytes of text, and the tokens that suggests.
import type { DatasetFormat } from './dataset-format.js';

/**
 * No tokenizer runs in the service, so tokens are estimated from UTF-8 bytes: BPE tokenizers average about 4 bytes
 * of English text per token (less for code and non-Latin scripts, so those run longer than estimated).
 */
export const BYTES_PER_TOKEN = 4;

// eslint-disable-next-line no-control-regex -- every character from U+0000 to U+007F is ASCII
const ASCII = /^[\x00-\x7f]*$/;

/**
 * A string's length in UTF-8, counted without encoding it (TextEncoder allocated every string's bytes: ~17x the time,
 * and most of a dataset's validation; bench: dataset validation). A lone surrogate counts 3, as U+FFFD.
 */
export function utf8Length(s: string): number {
  // Most training text is ASCII: one byte a character, and the regular expression tests it natively.
  if (ASCII.test(s)) return s.length;
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}

function textBytes(value: unknown): number {
  if (typeof value === 'string') return utf8Length(value);
  let sum = 0;
  if (Array.isArray(value)) for (const v of value) sum += textBytes(v);
  else if (typeof value === 'object' && value !== null)
    // A parsed record's own keys (JSON.parse objects inherit no enumerable ones), without an array of its values.
    for (const k in value) sum += textBytes((value as Record<string, unknown>)[k]);
  return sum;
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
