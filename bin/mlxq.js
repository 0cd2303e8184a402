#!/usr/bin/env node
// Launcher for the mlxq CLI: registers tsx so the TypeScript sources run as they are, then starts src/cli/main.ts.
// `mlxq worker` (and `npm run worker`) starts a worker instead, from its compiled JavaScript (dist/worker, built by
// `npm ci` and rebuilt here when a source changed since): no tsx loader in a process that sits beside the model.
// Without a build (esbuild missing, the build failed) it falls back to src/worker/main.ts through tsx, and says so.
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The compiled worker's entry, built first when missing or older than its sources; null when it cannot be. */
async function compiledWorker() {
  try {
    const { workerBuild } = await import('../scripts/build.mjs');
    const build = workerBuild();
    if (build.stale)
      execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url))], {
        stdio: 'inherit',
      });
    return pathToFileURL(build.entry).href;
  } catch (e) {
    process.stderr.write(
      `mlxq: no compiled worker (${e.message}); running the TypeScript sources with tsx\n`,
    );
    return null;
  }
}

const worker = process.argv[2] === 'worker';
const compiled = worker ? await compiledWorker() : null;
if (compiled) {
  await import(compiled);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const entry = worker ? '../src/worker/main.ts' : '../src/cli/main.ts';
  await import(new URL(entry, import.meta.url).href);
}
