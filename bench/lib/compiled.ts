// The benchmark's worker processes run as `npm run worker` runs them: compiled JavaScript (no tsx loader) with the
// node flags of that script, read from package.json so the two never differ. Builds the project's worker
// (scripts/build.mjs, into dist/worker) and the raw baseline worker (into dist/bench), which runs the same way.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

import { build } from 'esbuild';

import { REPO_ROOT } from './processes.js';

export { npmRunWorker } from '../../scripts/build.mjs';

/** The raw BullMQ worker, compiled. */
export const RAW_WORKER_JS = 'dist/bench/raw-worker.js';

export async function buildWorkers(): Promise<void> {
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  await build({
    absWorkingDir: REPO_ROOT,
    entryPoints: ['bench/raw/raw-worker.ts'],
    outfile: RAW_WORKER_JS,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
}
