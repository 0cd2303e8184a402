// `npm run bench` / `npm run bench:quick`: measures the service against its raw parts, figure by figure, in one
// run on one machine. Prints one JSON object per figure on stdout (progress goes to stderr); the full run also
// writes BENCHMARKS.md. `--only=<word>` runs the figures whose name contains the word.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { findRedis } from '../src/shared/redis-bootstrap.js';
import { artifactDownload } from './figures/artifact-download.js';
import { datasetValidation } from './figures/dataset-validation.js';
import { historyQueries } from './figures/history-queries.js';
import { idleRss } from './figures/idle-rss.js';
import { logIngestion } from './figures/log-ingestion.js';
import { outputParser } from './figures/output-parser.js';
import { queueGap } from './figures/queue-gap.js';
import { reportProtocol } from './figures/report-protocol.js';
import { repository } from './figures/repository.js';
import { standIn } from './figures/stand-in.js';
import { type Breakdown, submitBreakdown } from './figures/submit-breakdown.js';
import { submitLatency } from './figures/submit-latency.js';
import { submitThroughput } from './figures/submit-throughput.js';
import { sweepSubmit } from './figures/sweep-submit.js';
import { uploadMemory } from './figures/upload-memory.js';
import { buildWorkers } from './lib/compiled.js';
import type { BenchContext } from './lib/context.js';
import { type Figure, figureJson } from './lib/figure.js';
import { collectMachine } from './lib/machine.js';
import { killAll, REPO_ROOT } from './lib/processes.js';
import { writeReport } from './lib/report.js';

const FIGURES: [string, (ctx: BenchContext) => Promise<Figure[]>][] = [
  ['idle rss', idleRss],
  ['submit throughput', submitThroughput],
  ['submit latency', submitLatency],
  ['queue gap', queueGap],
  ['log ingestion', logIngestion],
  ['output parser', outputParser],
  ['reporting protocol', reportProtocol],
  ['history queries', historyQueries],
  ['dataset validation', datasetValidation],
  ['dataset upload', uploadMemory],
  ['sweep', sweepSubmit],
  ['repository', repository],
  ['artifact download', artifactDownload],
  ['stand-in trainer', standIn],
];

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const started = Date.now();
const log = (msg: string) =>
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);

/** The interpreter behind `python3` (or MLX_PYTHON), so no pyenv shim adds ~60 ms to every trainer start. */
function resolvePython(): string {
  const py = process.env.MLX_PYTHON ?? 'python3';
  return execFileSync(py, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-bench-'));
process.once('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
// A Redis on this machine (no Docker): the figures measure the service, not a container's network.
const redis = await findRedis({ url: process.env.REDIS_URL, docker: false, label: 'bench' });
let cleaned = false;
async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  killAll();
  await redis.stop().catch(() => undefined);
  fs.rmSync(tmp, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

const figures: Figure[] = [];
const ctx: BenchContext = {
  quick,
  redisUrl: redis.url,
  tmp,
  python: resolvePython(),
  log,
  emit: (f) => {
    figures.push(f);
    process.stdout.write(`${figureJson(f)}\n`);
  },
};

let failed = false;
try {
  log(`${quick ? 'quick' : 'full'} run; Redis: ${redis.origin}; python: ${ctx.python}; temp: ${tmp}`);
  const machine = collectMachine(ctx, redis.origin);
  await buildWorkers();
  for (const [name, run] of FIGURES) {
    if (only && !name.includes(only)) continue;
    log(`-- ${name}`);
    try {
      for (const f of await run(ctx)) ctx.emit(f);
    } catch (e) {
      failed = true;
      log(`${name} failed: ${(e as Error).stack ?? String(e)}`);
    }
  }
  let breakdown: Breakdown | null = null;
  if (!quick && (!only || 'submit breakdown'.includes(only))) {
    log('-- submit breakdown');
    breakdown = await submitBreakdown(ctx);
    for (const s of breakdown.steps)
      log(`  ${s.step}: ${s.cpuUs.toFixed(1)} µs CPU, ${s.wallUs.toFixed(1)} µs wall`);
  }
  if (!quick && !only && !failed) {
    writeReport(
      path.join(REPO_ROOT, 'BENCHMARKS.md'),
      figures,
      await machine,
      (Date.now() - started) / 1000,
      breakdown,
    );
    // Formatted as the rest of the repository (npm test runs prettier --check over it).
    execFileSync(path.join(REPO_ROOT, 'node_modules', '.bin', 'prettier'), ['--write', 'BENCHMARKS.md'], {
      cwd: REPO_ROOT,
      stdio: 'ignore',
    });
    log('wrote BENCHMARKS.md');
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await cleanup();
}
process.exit(failed ? 1 : 0);
