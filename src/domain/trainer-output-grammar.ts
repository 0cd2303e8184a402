// The grammar of mlx-lm-lora output: number syntax, ANSI stripping, line patterns and key tables (pure).
/*
 * Metric names (MetricPoint.name) and the upstream text they come from. Which mode prints which train report
 * line is its `output` dialect in the table of methods (method-table.ts); its `metrics` list what it reports.
 *
 * | split | name                                 | printed as                                                  |
 * |-------|--------------------------------------|-------------------------------------------------------------|
 * | train | loss                                 | `loss` / `Train loss` / GRPO `Loss:`                        |
 * | train | learning_rate                        | `lr` / `Learning Rate` / GRPO `Learning Rate:` (.4e)        |
 * | train | it_per_sec                           | `it/s` / `It/sec` / GRPO `Speed: x it/s`                    |
 * | train | tokens_per_sec                       | `tok/s` / `Tokens/sec` / GRPO `Speed: …, y tok/s`           |
 * | train | trained_tokens                       | `trained_tok` / `Trained Tokens`                            |
 * | train | peak_memory_gb                       | `peak_mem xGB` / `Peak mem x GB` / GRPO `Memory: xGB`       |
 * | train | chosen_reward, rejected_reward       | `chosen_r`, `rejected_r` (dpo, cpo, orpo)                   |
 * | train | accuracy, margin                     | `acc`, `margin` / `Accuracy`, `Margin` (online modes)       |
 * | train | rewards, kl_penalty                  | `Rewards`, `KL penalty` (rlhf_reinforce)                    |
 * | train | chosen_win, margin_win               | ftpo                                                        |
 * | train | total_rewards_mean, total_rewards_std| GRPO `Total Rewards:  μ=, σ=` / v0.8.1 `total_r_mean/_std`  |
 * | train | group_rewards_mean, group_rewards_std| GRPO `Group Rewards:  μ=, σ=` / v0.8.1 `group_r_mean/_std`  |
 * | train | kl                                   | GRPO `KL Divergence:` / v0.8.1 `kl`                         |
 * | train | avg_tokens, min_tokens, max_tokens   | GRPO `• Avg tokens:`, `• Min tokens:`, `• Max tokens:`      |
 * | train | hit_limit_ratio                      | GRPO `• Hit limit: 25.0%` -> 0.25                           |
 * | train | reward/<name>/mean, …/std            | GRPO `• <name>: μ=…, σ=…` (name as displayed)               |
 * | train | reward/<name>/coverage               | GRPO `cov=100.00%` -> 1 (fraction)                          |
 * | train | clip_low, clip_high, clip_total      | GRPO `Clipping:  low=, high=, total=`                       |
 * | val   | loss, time_s                         | `Val loss`, `Val took xs`                                   |
 * | val   | chosen_reward, rejected_reward       | `Val chosen reward`, `Val rejected reward` (dpo family)     |
 * | val   | accuracy, margin                     | `Val accuracy`, `Val margin` (dpo family)                   |
 * | val   | rewards, kl_penalty, advantages      | `Val rewards`, `Val KL penalty`, `Val advantages` (rlhf)    |
 * | test  | loss, perplexity, tokens             | `Test Results:` block, `FTPO Test loss:`, `Test loss, ppl`  |
 * | test  | chosen_reward, rejected_reward       | orpo `  Rewards: a, b`, v0.8.1 `…, Rewards: a, b`           |
 * | test  | <name> as printed                    | `<MODE> Test Metrics:` lines, lines after `FTPO Test loss:` |
 */
import type { MetricPoint } from './trainer-output.js';

// CSI (7-bit and 8-bit, also cut off at the end of a line), OSC, nF and Fe escapes, then any lone ESC.
/* eslint-disable no-control-regex -- matching terminal escape bytes is the point */
export const ANSI =
  /\x1b\[[0-?]*[ -/]*[@-~]?|\x9b[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -/]+[0-~]?|\x1b[@-~]?/g;
/* eslint-enable no-control-regex */

export function stripAnsi(s: string): string {
  if (s.indexOf('\x1b') === -1 && s.indexOf('\x9b') === -1) return s;
  return s.replace(ANSI, '');
}

export const NUM = String.raw`-?(?:\d+(?:\.\d+)?(?:e[+-]\d+)?|nan|inf)`;
export const re = (src: string): RegExp => new RegExp(src.replaceAll('(N)', `(${NUM})`), 'i');

export function toNumber(text: string): number {
  const lower = text.toLowerCase();
  if (lower.endsWith('nan')) return NaN;
  if (lower.endsWith('inf')) return lower.startsWith('-') ? -Infinity : Infinity;
  return Number(text);
}

export const NUM_ONLY = re('^(N)$');
export const EQ80 = '='.repeat(80);

/** Parses rows of `upstream key | alias -> metric_name`. */
export function keyTable(rows: string): ReadonlyMap<string, string> {
  const table = new Map<string, string>();
  for (const row of rows.split('\n')) {
    const [keys, name] = row.split('->').map((part) => part.trim());
    if (keys && name) for (const key of keys.split('|')) table.set(key.trim(), name);
  }
  return table;
}

/** Train report keys: every mode's line, the v0.8.1 GRPO line and mlx_lm's wording. */
export const TRAIN_KEYS = keyTable(`
  loss | Train loss            -> loss
  lr | Learning Rate           -> learning_rate
  it/s | It/sec                -> it_per_sec
  tok/s | Tokens/sec           -> tokens_per_sec
  trained_tok | Trained Tokens -> trained_tokens
  peak_mem | Peak mem          -> peak_memory_gb
  chosen_r                     -> chosen_reward
  rejected_r                   -> rejected_reward
  acc | Accuracy               -> accuracy
  margin | Margin              -> margin
  Rewards                      -> rewards
  KL penalty                   -> kl_penalty
  chosen_win                   -> chosen_win
  margin_win                   -> margin_win
  total_r_mean                 -> total_rewards_mean
  total_r_std                  -> total_rewards_std
  group_r_mean                 -> group_rewards_mean
  group_r_std                  -> group_rewards_std
  kl                           -> kl
`);

export const VAL_KEYS = keyTable(`
  Val loss            -> loss
  Val took            -> time_s
  Val chosen reward   -> chosen_reward
  Val rejected reward -> rejected_reward
  Val accuracy        -> accuracy
  Val margin          -> margin
  Val rewards         -> rewards
  Val KL penalty      -> kl_penalty
  Val advantages      -> advantages
`);

/** GRPO report block lines with fixed metric names; `percent` marks `.1%` values. */
export const GRPO_LINES: ReadonlyArray<{ pattern: RegExp; names: readonly string[]; percent?: true }> = [
  { pattern: re('^Loss: (N)$'), names: ['loss'] },
  { pattern: re('^Total Rewards: +μ=(N), σ=(N)$'), names: ['total_rewards_mean', 'total_rewards_std'] },
  { pattern: re('^Group Rewards: +μ=(N), σ=(N)$'), names: ['group_rewards_mean', 'group_rewards_std'] },
  { pattern: re('^KL Divergence: (N)$'), names: ['kl'] },
  { pattern: re('^ +• Avg tokens: (N)$'), names: ['avg_tokens'] },
  { pattern: re('^ +• Min tokens: (N)$'), names: ['min_tokens'] },
  { pattern: re(String.raw`^ +• Max tokens: (N)(?: \(limit: \d+\))?$`), names: ['max_tokens'] },
  { pattern: re('^ +• Hit limit: (N)%$'), names: ['hit_limit_ratio'], percent: true },
  {
    pattern: re('^Clipping: +low=(N), high=(N), total=(N)$'),
    names: ['clip_low', 'clip_high', 'clip_total'],
  },
  { pattern: re('^Learning Rate: (N)$'), names: ['learning_rate'] },
  { pattern: re('^Speed: (N) it/s, (N) tok/s$'), names: ['it_per_sec', 'tokens_per_sec'] },
  { pattern: re('^Memory: (N) ?GB$'), names: ['peak_memory_gb'] },
];
export const GRPO_REWARD = re('^ +• (.+?): μ=(N), σ=(N), cov=(N)%$');

export const BAR = /^(?:Training|FTPO): *(?:\d+%\|[^|]*\| *(\d+)\/(\d+)|(\d+)it) /;
export const TEST_VALUE = re(String.raw`^  ([^:]+): (?:array\((N), dtype=\w+\)|(N))(?:, (N))?$`);
export const TEST_LEGACY = re(String.raw`^Test loss (N), Test ppl (N)(?:, Rewards: (N), (N))?`);
export const TEST_LABELS = keyTable('Loss -> loss \n Perplexity -> perplexity \n Tokens -> tokens');
export const CALCULATED = /^\[INFO\] Calculated (\d+) iterations from /;
export const STARTING = /^Starting .*training\.\.\., iters: (\d+)$/;

export type Block =
  | { kind: 'grpo'; iteration: number; points: MetricPoint[] }
  | { kind: 'test'; labelled: boolean; iteration: number; points: MetricPoint[] };

/** Length of the dotted identifier at the start of `s` (`json.decoder.JSONDecodeError`). */
export function identifierLength(s: string): number {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const word =
      (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46;
    if (!word) break;
  }
  return i;
}

/** A Python traceback tail (`ValueError: msg`), an argparse `prog: error: msg` line, or a C++ abort. */
export function errorMessage(line: string): string | null {
  if (line.startsWith('libc++abi: ')) return line;
  const n = identifierLength(line);
  if (n === 0 || (n < line.length && line.charCodeAt(n) !== 58)) return null;
  const name = line.slice(0, n);
  if (/[A-Z]\w*(?:Error|Exception)$/.test(name)) return line;
  return line.startsWith(': error: ', n) ? line : null;
}

/** Splits `a and b` where b is the checkpoint next to a; paths may themselves contain " and ". */
export function splitCheckpoint(body: string): [string, string] | null {
  if (!body.endsWith('.')) return null;
  const text = body.slice(0, -1);
  const at = (i: number): [string, string] => [text.slice(0, i), text.slice(i + 5)];
  const dir = (p: string): string => p.slice(0, Math.max(0, p.lastIndexOf('/')));
  const first = text.indexOf(' and ');
  // At most 32 tries, so a hostile line cannot make this quadratic; real paths hold a few " and " at most.
  for (let i = first, tries = 0; i !== -1 && tries < 32; i = text.indexOf(' and ', i + 1), tries++) {
    const [adapter, checkpoint] = at(i);
    if (dir(adapter) === dir(checkpoint)) return [adapter, checkpoint];
  }
  return first === -1 ? null : at(first);
}

export function cleanLine(raw: string): string {
  const s = stripAnsi(raw);
  const last = s.charCodeAt(s.length - 1);
  return last === 32 || last === 9 || last === 13 ? s.trimEnd() : s;
}
