// Figures: validating a 1 GB train.jsonl (quick: 100 MB) in a child process each: MB/s against a raw line split
// + JSON.parse loop, peak RSS, and a second validation of the unchanged file (a cache hit: no byte read again).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { type BenchContext, subdir } from '../lib/context.js';
import { atLeastRatio, atMost, type Figure, makeFigure } from '../lib/figure.js';
import { REPO_ROOT } from '../lib/processes.js';

const run = promisify(execFile);

interface ChildResult {
  seconds: number;
  rows: number;
  bytes: number;
  idleRssMb: number;
  peakRssMb: number;
  cache?: { ms: number; bytesRead: number };
}

/** SFT chat records of ~250 B, varied so no two lines are alike. */
function writeDataset(file: string, targetBytes: number): number {
  const fd = fs.openSync(file, 'w');
  const topics = ['bread', 'cakes', 'opening hours', 'delivery', 'allergens', 'prices', 'orders', 'catering'];
  let written = 0;
  let rows = 0;
  while (written < targetBytes) {
    const parts: string[] = [];
    for (let k = 0; k < 4000; k++, rows++) {
      const topic = topics[rows % topics.length]!;
      parts.push(
        JSON.stringify({
          messages: [
            { role: 'system', content: 'You are a concise assistant for a small bakery.' },
            { role: 'user', content: `Question ${rows} about ${topic}: what should I know?` },
            {
              role: 'assistant',
              content: `Answer ${rows}: about ${topic}, ask us at the counter; we reply within ${rows % 60} minutes.`,
            },
          ],
        }),
      );
    }
    const chunk = `${parts.join('\n')}\n`;
    written += fs.writeSync(fd, chunk);
  }
  fs.closeSync(fd);
  return rows;
}

async function child(mode: 'project' | 'raw', dir: string): Promise<ChildResult> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', 'bench/children/validate.ts', mode, dir],
    { cwd: REPO_ROOT, maxBuffer: 1 << 20 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult;
}

export async function datasetValidation(ctx: BenchContext): Promise<Figure[]> {
  const reps = ctx.quick ? 1 : 5;
  const target = ctx.quick ? 100 * 1e6 : 1e9;
  const dir = subdir(ctx, 'dataset');
  const rows = writeDataset(path.join(dir, 'train.jsonl'), target);
  const bytes = fs.statSync(path.join(dir, 'train.jsonl')).size;
  ctx.log(`dataset: ${rows} rows, ${(bytes / 1e6).toFixed(0)} MB written`);
  const mbps = { project: [] as number[], raw: [] as number[] };
  const rss = { project: [] as number[], raw: [] as number[] };
  const idle = { project: [] as number[], raw: [] as number[] };
  const cacheMs: number[] = [];
  const firstMs: number[] = [];
  const cacheRead: number[] = [];
  try {
    for (let r = 0; r < reps; r++) {
      const order = r % 2 === 0 ? (['project', 'raw'] as const) : (['raw', 'project'] as const);
      for (const mode of order) {
        const res = await child(mode, dir);
        if (res.rows !== rows) throw new Error(`${mode}: ${res.rows} rows, expected ${rows}`);
        mbps[mode].push(bytes / 1e6 / res.seconds);
        rss[mode].push(res.peakRssMb);
        idle[mode].push(res.idleRssMb);
        if (res.cache) {
          cacheMs.push(res.cache.ms);
          cacheRead.push(res.cache.bytesRead);
          firstMs.push(res.seconds * 1000);
        }
      }
      ctx.log(
        `dataset rep ${r + 1}/${reps}: project ${mbps.project.at(-1)!.toFixed(0)} MB/s (peak RSS ${rss.project.at(-1)!.toFixed(0)} MB), raw ${mbps.raw.at(-1)!.toFixed(0)} MB/s (${rss.raw.at(-1)!.toFixed(0)} MB); cache hit ${cacheMs.at(-1)!.toFixed(2)} ms, ${cacheRead.at(-1)} bytes read`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const scale = ctx.quick
    ? `quick scale: ${(bytes / 1e6).toFixed(0)} MB, not 1 GB`
    : `${(bytes / 1e9).toFixed(2)} GB`;
  const what = `${scale}, ${rows.toLocaleString('en-US')} SFT chat records, file in the page cache`;
  const idleMb = (xs: number[]) => Math.min(...xs).toFixed(0);
  return [
    makeFigure(
      {
        name: 'dataset validation throughput',
        section: 'Datasets',
        unit: 'MB/s',
        goal: '>= 0.7x',
        pass: atLeastRatio(0.7),
        baselineWhat: 'raw 1 MiB reads + line split + JSON.parse loop',
        note: what,
      },
      mbps.project,
      mbps.raw,
    ),
    makeFigure(
      {
        name: 'dataset validation peak RSS',
        section: 'Datasets',
        unit: 'MB',
        goal: '<= 128 MB',
        pass: atMost(128),
        baselineWhat: 'the raw loop in the same kind of child process',
        note: `${what}; VmHWM of a child process (node --import tsx); its RSS before validating: project ${idleMb(idle.project)} MB, raw ${idleMb(idle.raw)} MB`,
      },
      rss.project,
      rss.raw,
    ),
    makeFigure(
      {
        name: 'dataset validation of the unchanged file again (cache hit)',
        section: 'Datasets',
        unit: 'ms',
        goal: 'not read again',
        pass: () => Math.max(...cacheRead) < 64 * 1024,
        baselineWhat: 'the first validation of the file',
        note: `bytes read by the second call: ${Math.max(...cacheRead)} (max over repetitions; from /proc/self/io rchar)`,
      },
      cacheMs,
      firstMs,
    ),
  ];
}
