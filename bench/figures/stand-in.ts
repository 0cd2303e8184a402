// Figure: wall time of the test stand-in trainer (test/fixtures/mlx_lm_lora) for a 20-iteration SFT run with
// validation, checkpoints and fusing, from process start to exit. Every trainer the test suite runs is one, so its
// start-up and per-iteration cost bounds how quickly the suite can go.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { sftRunArgs } from '../../test/helpers/stand-in-sft-run.js';
import { type BenchContext, subdir } from '../lib/context.js';
import { atMost, type Figure, makeFigure } from '../lib/figure.js';
import { STAND_IN_PATH } from '../lib/project.js';
import { nowMs } from '../lib/stats.js';

const run = promisify(execFile);

export async function standIn(ctx: BenchContext): Promise<Figure[]> {
  const reps = ctx.quick ? 2 : 5;
  const dir = subdir(ctx, 'stand-in');
  const rows = Array.from({ length: 12 }, (_, i) => ({
    prompt: `What is ${i} + ${i}?`,
    completion: `It is ${2 * i}.`,
  }));
  const write = (split: string, part: typeof rows) =>
    fs.writeFileSync(path.join(dir, `${split}.jsonl`), part.map((r) => `${JSON.stringify(r)}\n`).join(''));
  write('train', rows);
  write('valid', rows.slice(0, 4));
  const env: Record<string, string> = { PYTHONPATH: STAND_IN_PATH, PYTHONDONTWRITEBYTECODE: '1' };
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('MLX_STANDIN_')) env[k] ??= v;
  const seconds: number[] = [];
  for (let r = 0; r < reps; r++) {
    const out = path.join(dir, `run-${r}`);
    const t0 = nowMs();
    await run(ctx.python, ['-m', 'mlx_lm_lora.train', ...sftRunArgs(dir, out)], {
      cwd: dir,
      env,
      maxBuffer: 1 << 22,
    });
    seconds.push((nowMs() - t0) / 1000);
  }
  ctx.log(`stand-in SFT run: ${seconds.map((s) => s.toFixed(2)).join(', ')} s`);
  return [
    makeFigure(
      {
        name: 'stand-in trainer, 20-iteration SFT run',
        section: 'Worker',
        unit: 's',
        goal: '<= 5 s',
        pass: atMost(5),
        note: 'python -m mlx_lm_lora.train on test/fixtures, validation every 10 iterations, 2 checkpoints, fused',
      },
      seconds,
    ),
  ];
}
