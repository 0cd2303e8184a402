// Prompts taken from a run's dataset split for samples and fuse verification: the first N records that have one.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

/** The prompt a record asks: the last user turn of a chat, `prompt`, or the start of a `text` record. */
export function promptOf(record: unknown): string | null {
  if (!record || typeof record !== 'object') return null;
  const r = record as Record<string, unknown>;
  if (Array.isArray(r.messages)) {
    const users = r.messages.filter(
      (m): m is { role: string; content: string } =>
        !!m &&
        typeof m === 'object' &&
        (m as { role?: unknown }).role === 'user' &&
        typeof (m as { content?: unknown }).content === 'string',
    );
    return users.length ? users[users.length - 1]!.content : null;
  }
  if (typeof r.prompt === 'string' && r.prompt.trim()) return r.prompt;
  if (typeof r.text === 'string' && r.text.trim()) return r.text.split(/\s+/).slice(0, 12).join(' ');
  return null;
}

/** Up to `count` prompts from `<dataDir>/<split>.jsonl`, then the other splits in order valid, test, train. */
export async function splitPrompts(
  dataDir: string,
  split: 'valid' | 'test' | 'train',
  count: number,
): Promise<string[]> {
  const order = [split, ...(['valid', 'test', 'train'] as const).filter((s) => s !== split)];
  const prompts: string[] = [];
  for (const s of order) {
    const file = path.join(dataDir, `${s}.jsonl`);
    if (!fs.existsSync(file)) continue;
    const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
    for await (const line of lines) {
      if (prompts.length >= count) break;
      try {
        const p = promptOf(JSON.parse(line));
        if (p && p !== '-' && !prompts.includes(p)) prompts.push(p);
      } catch {
        // A line that is not JSON: the dataset check reported it at submit; it gives no prompt.
      }
    }
    lines.close();
    if (prompts.length >= count) break;
  }
  return prompts;
}

/** Rows of a split file (the evaluation's batches follow from them); 0 when it is missing. */
export async function countRows(file: string): Promise<number> {
  if (!fs.existsSync(file)) return 0;
  let n = 0;
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim()) n++;
  return n;
}
