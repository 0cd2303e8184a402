// Parses mlx-lm-lora output (all train modes, HEAD and v0.8.1) line by line into metric points and run events.
// The text each metric comes from is listed in trainer-output-grammar.ts.
/*
 * Events: train reports (one line, or the GRPO block) give `metrics` then `progress`; tqdm bars give
 * `progress`; `[INFO] Calculated N iterations …` and `Starting … training..., iters: N` (v0.8.1,
 * mlx_lm) give `total_iterations`; `[ERROR] …`, Python `XxxError: msg` tails, argparse
 * `prog: error: …` and `libc++abi: terminating …` give `error`. Test points use the last seen iteration.
 *
 * Numbers: `nan` -> NaN, `inf` -> Infinity, `-inf` -> -Infinity. Unknown `key value` pairs in a known
 * report line are skipped, so a new upstream column does not hide the others.
 */

import type { MetricPoint, MetricSplit, TrainerEvent, TrainerOutputParser } from './trainer-events.js';
import {
  BAR,
  type Block,
  CALCULATED,
  cleanLine,
  EQ80,
  errorMessage,
  GRPO_LINES,
  GRPO_REWARD,
  NUM_ONLY,
  splitCheckpoint,
  STARTING,
  TEST_LABELS,
  TEST_LEGACY,
  TEST_VALUE,
  toNumber,
  TRAIN_KEYS,
  VAL_KEYS,
} from './trainer-output-grammar.js';

export type { MetricPoint, MetricSplit, TrainerEvent, TrainerOutputParser } from './trainer-events.js';
export { stripAnsi } from './trainer-output-grammar.js';

class Parser implements TrainerOutputParser {
  private block: Block | null = null;
  private total: number | null = null;
  private lastIteration = 0;
  private out: TrainerEvent[] = [];

  push(raw: string): TrainerEvent[] {
    this.out = [];
    if (typeof raw !== 'string') return this.out;
    const line = cleanLine(raw);
    if (this.block === null || !this.feedBlock(this.block, line)) this.dispatch(line);
    return this.out;
  }

  end(): TrainerEvent[] {
    this.out = [];
    this.flush();
    return this.out;
  }

  /** Emits an event; a pending block is flushed first so events stay in output order. */
  private emit(event: TrainerEvent): void {
    this.flush();
    this.out.push(event);
  }

  private flush(): void {
    const block = this.block;
    if (block === null) return;
    this.block = null;
    const split: MetricSplit = block.kind === 'grpo' ? 'train' : 'test';
    if (block.points.length > 0) {
      this.out.push({ kind: 'metrics', iteration: block.iteration, split, points: block.points });
    }
    if (block.kind === 'grpo')
      this.out.push({ kind: 'progress', iteration: block.iteration, total: this.total });
  }

  private startBlock(block: Block): void {
    this.flush();
    this.block = block;
  }

  /** True when the line belonged to the pending block. A GRPO block survives stray lines (tqdm on a merged stream); test blocks end at the first foreign line. */
  private feedBlock(block: Block, line: string): boolean {
    if (block.kind === 'test') {
      if (this.feedTest(block, line)) return true;
      this.flush();
      return false;
    }
    if (line === EQ80) {
      this.flush();
      return true;
    }
    return this.feedGrpo(block, line);
  }

  private feedGrpo(block: Block, line: string): boolean {
    const add = (name: string, text: string | undefined, scale = 1): void => {
      if (text !== undefined)
        block.points.push(this.point(block.iteration, 'train', name, toNumber(text) / scale));
    };
    const reward = line.includes('μ=', 2) ? GRPO_REWARD.exec(line) : null;
    if (reward !== null && reward[1] !== undefined) {
      const base = `reward/${reward[1]}`;
      add(`${base}/mean`, reward[2]);
      add(`${base}/std`, reward[3]);
      add(`${base}/coverage`, reward[4], 100);
      return true;
    }
    for (const spec of GRPO_LINES) {
      const m = spec.pattern.exec(line);
      if (m === null) continue;
      spec.names.forEach((name, i) => add(name, m[i + 1], spec.percent ? 100 : 1));
      return true;
    }
    return false;
  }

  private feedTest(block: Block & { kind: 'test' }, line: string): boolean {
    const m = line.charCodeAt(0) === 32 ? TEST_VALUE.exec(line) : null;
    if (m === null || m[1] === undefined) return false;
    const label = m[1].trim();
    const value = m[2] ?? m[3] ?? '';
    if (block.labelled && label === 'Rewards' && m[4] !== undefined) {
      this.addTest(block, 'chosen_reward', value);
      this.addTest(block, 'rejected_reward', m[4]);
    } else if (m[4] === undefined) {
      this.addTest(block, block.labelled ? (TEST_LABELS.get(label) ?? label) : label, value);
    }
    return true;
  }

  private addTest(block: Block, name: string, text: string): void {
    block.points.push(this.point(block.iteration, 'test', name, toNumber(text)));
  }

  private point(iteration: number, split: MetricSplit, name: string, value: number): MetricPoint {
    return { iteration, split, name, value };
  }

  private dispatch(line: string): void {
    switch (line.charCodeAt(0)) {
      case 73: // I
        if (line.startsWith('Iter ')) {
          this.iterLine(line);
          return;
        }
        break;
      case 84: // T
      case 70: // F
        if (this.bar(line) || this.testStart(line)) return;
        break;
      case 83: // S
        if (this.savedOrStarting(line)) return;
        break;
      case 91: // [
        this.bracketLine(line);
        return;
    }
    if (line.endsWith(' Test Metrics:')) {
      this.startBlock(this.testBlock(false, []));
      return;
    }
    const message = errorMessage(line);
    if (message !== null) this.emit({ kind: 'error', message });
  }

  private iterLine(line: string): void {
    const colon = line.indexOf(':', 5);
    const digits = line.slice(5, colon);
    if (colon < 6 || !/^\d+$/.test(digits)) return;
    const iteration = Number(digits);
    const rest = line.slice(colon + 1);
    if (rest === '') {
      this.lastIteration = iteration;
      this.startBlock({ kind: 'grpo', iteration, points: [] });
      return;
    }
    if (!rest.startsWith(' ')) return;
    const body = rest.slice(1);
    if (body.startsWith('Saved adapter weights to ')) {
      this.checkpoint(iteration, body.slice(25));
      return;
    }
    if (body.startsWith('Val ')) {
      this.report(iteration, 'val', body, VAL_KEYS, 'Val loss');
      return;
    }
    this.report(iteration, 'train', body, TRAIN_KEYS, 'loss', 'Train loss');
  }

  /** `key value, key value, …` report; the first key must be the split's loss key. */
  private report(
    iteration: number,
    split: MetricSplit,
    body: string,
    keys: ReadonlyMap<string, string>,
    ...leads: string[]
  ): void {
    const points: MetricPoint[] = [];
    for (const chunk of body.split(', ')) {
      const item = chunk.endsWith(' GB') ? chunk.slice(0, -3) : chunk;
      const space = item.lastIndexOf(' ');
      const key = item.slice(0, space);
      if (points.length === 0 && !leads.includes(key)) return;
      const name = keys.get(key);
      const value = item.slice(space + 1).replace(/(?:GB|s)$/, '');
      if (name !== undefined && NUM_ONLY.test(value))
        points.push(this.point(iteration, split, name, toNumber(value)));
      else if (points.length === 0) return;
    }
    this.lastIteration = iteration;
    this.emit({ kind: 'metrics', iteration, split, points });
    if (split === 'train') this.emit({ kind: 'progress', iteration, total: this.total });
  }

  private checkpoint(iteration: number, body: string): void {
    const files = splitCheckpoint(body);
    if (files === null) return;
    this.lastIteration = iteration;
    this.emit({ kind: 'checkpoint', iteration, adapterFile: files[0], checkpointFile: files[1] });
  }

  /** tqdm bar redraws; they never end a pending block (stderr may be merged into stdout). */
  private bar(line: string): boolean {
    const m = BAR.exec(line);
    if (m === null) return false;
    if (m[2] !== undefined) this.total = Number(m[2]);
    const iteration = Number(m[1] ?? m[3]);
    this.lastIteration = iteration;
    this.out.push({ kind: 'progress', iteration, total: m[2] !== undefined ? Number(m[2]) : this.total });
    return true;
  }

  private testBlock(labelled: boolean, points: MetricPoint[]): Block {
    return { kind: 'test', labelled, iteration: this.lastIteration, points };
  }

  private testStart(line: string): boolean {
    if (line === 'Test Results:') {
      this.startBlock(this.testBlock(true, []));
      return true;
    }
    if (line.startsWith('FTPO Test loss: ')) {
      const value = line.slice(16);
      if (!NUM_ONLY.test(value)) return false;
      this.startBlock(
        this.testBlock(false, [this.point(this.lastIteration, 'test', 'loss', toNumber(value))]),
      );
      return true;
    }
    const m = line.startsWith('Test loss ') ? TEST_LEGACY.exec(line) : null;
    if (m === null) return false;
    const names = ['loss', 'perplexity', 'chosen_reward', 'rejected_reward'];
    const points = names.flatMap((name, i) => {
      const text = m[i + 1];
      return text === undefined ? [] : [this.point(this.lastIteration, 'test', name, toNumber(text))];
    });
    this.emit({ kind: 'metrics', iteration: this.lastIteration, split: 'test', points });
    return true;
  }

  private savedOrStarting(line: string): boolean {
    if (line.startsWith('Saved final weights to ') && line.endsWith('.') && line.length > 24) {
      this.emit({ kind: 'final', adapterFile: line.slice(23, -1) });
      return true;
    }
    const m = line.startsWith('Starting ') ? STARTING.exec(line) : null;
    if (m === null) return false;
    this.setTotal(Number(m[1]));
    return true;
  }

  private setTotal(total: number): void {
    this.total = total;
    this.emit({ kind: 'total_iterations', total });
  }

  private bracketLine(line: string): void {
    if (line.startsWith('[ERROR]')) {
      this.emit({ kind: 'error', message: line.slice(7).trim() || line });
    } else if (line.startsWith('[SUCCESS] Model fused and saved to ') && line.length > 35) {
      this.emit({ kind: 'fused', path: line.slice(35) });
    } else if (line.startsWith('[INFO] Calculated ')) {
      const m = CALCULATED.exec(line);
      if (m !== null) this.setTotal(Number(m[1]));
    }
  }
}

export function createTrainerOutputParser(): TrainerOutputParser {
  return new Parser();
}
