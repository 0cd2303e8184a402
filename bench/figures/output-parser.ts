// Figures: the trainer-output parser (src/domain/trainer-output.ts) alone, in this process: lines/s for ordinary log
// lines (no metric) and for report lines of every dialect (SFT, DPO validation, the GRPO block). The worker pushes
// every line of a trainer's stdout and stderr through it, so it must stay far ahead of any trainer.
import fs from 'node:fs';
import path from 'node:path';

import { createTrainerOutputParser } from '../../src/domain/trainer-output.js';
import type { BenchContext } from '../lib/context.js';
import { atLeast, type Figure, makeFigure } from '../lib/figure.js';
import { REPO_ROOT } from '../lib/processes.js';
import { nowMs } from '../lib/stats.js';

const ORDINARY = [
  'Loading model mlx-community/Qwen3-0.6B-4bit',
  'Trainable parameters: 0.123% (0.737M/596.049M)',
  '\x1b[94m[INFO]\x1b[0m Loading datasets',
  'Fetching 9 files: 100%',
  '  File "train.py", line 12, in main',
  '',
];

/** SFT and DPO report lines and the last GRPO report block of the recorded GRPO output. */
function metricLines(): string[] {
  const grpo = fs.readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'output', 'grpo.txt'), 'utf8');
  return [
    'Iter 10: loss 1.235, lr 1.000e-05, it/s 0.812, tok/s 512.250, trained_tok 5120, peak_mem 12.346GB',
    'Iter 10: Val loss 0.693, Val chosen reward 0.000, Val rejected reward -0.000, Val accuracy 0.500, Val margin 0.000, Val took 3.210s',
    ...grpo.split('\n').slice(-31, -4),
  ];
}

function linesPerSecond(lines: string[], rounds: number): number {
  const parser = createTrainerOutputParser();
  const start = nowMs();
  for (let r = 0; r < rounds; r++) for (const line of lines) parser.push(line);
  parser.end();
  return (lines.length * rounds) / ((nowMs() - start) / 1000);
}

export function outputParser(ctx: BenchContext): Promise<Figure[]> {
  const reps = ctx.quick ? 3 : 7;
  const metric = metricLines();
  linesPerSecond(ORDINARY, 20_000); // warm-up
  linesPerSecond(metric, 2_000);
  const rates = { ordinary: [] as number[], metric: [] as number[] };
  for (let r = 0; r < reps; r++) {
    rates.ordinary.push(linesPerSecond(ORDINARY, 200_000));
    rates.metric.push(linesPerSecond(metric, 10_000));
  }
  ctx.log(
    `output parser: ${Math.round(Math.min(...rates.ordinary)).toLocaleString('en')} ordinary, ` +
      `${Math.round(Math.min(...rates.metric)).toLocaleString('en')} metric lines/s (slowest repetition)`,
  );
  const note =
    'createTrainerOutputParser().push in one process, after a warm-up; the target is 1M and several 100k lines/s';
  return Promise.resolve([
    makeFigure(
      {
        name: 'output parser, ordinary lines',
        section: 'Worker',
        unit: 'lines/s',
        goal: '>= 250,000 lines/s',
        pass: atLeast(250_000),
        note,
      },
      rates.ordinary,
    ),
    makeFigure(
      {
        name: 'output parser, report lines',
        section: 'Worker',
        unit: 'lines/s',
        goal: '>= 50,000 lines/s',
        pass: atLeast(50_000),
        note,
      },
      rates.metric,
    ),
  ]);
}
