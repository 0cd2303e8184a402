// Compiles the worker process (src/worker/main.ts) to plain JavaScript in dist/worker, so a worker Mac runs it
// without the tsx loader (about 35 MB of resident memory the model could use). `npm ci` runs it (prepare); the
// launcher (bin/mlxq.js) runs it again when a source file changed since. Packages stay imports of node_modules; the
// local and the remote worker are chunks loaded only when used, as src/worker/main.ts imports them.
// As a module: `workerBuild()` says where the build is and whether it is older than its sources.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const WORKER_DIST = path.join(ROOT, 'dist', 'worker');
const ENTRY = 'src/worker/main.ts';
const META = 'meta.json';

/** The build of the worker: its entry, and `stale` when it is missing or a source it was built from changed. */
export function workerBuild() {
  const entry = path.join(WORKER_DIST, 'main.js');
  let built;
  let inputs;
  try {
    built = fs.statSync(entry).mtimeMs;
    inputs = Object.keys(JSON.parse(fs.readFileSync(path.join(WORKER_DIST, META), 'utf8')).inputs);
  } catch {
    return { entry, stale: true };
  }
  const changed = inputs.some((f) => {
    const st = fs.statSync(path.join(ROOT, f), { throwIfNoEntry: false });
    return !st || st.mtimeMs > built;
  });
  return { entry, stale: changed };
}

/**
 * Builds into a fresh folder and then swaps it in, so a worker starting meanwhile never imports a half-written
 * chunk; the metafile (the sources and what each output imports) goes beside it for the staleness check and tests.
 */
export async function buildWorker(dist = WORKER_DIST) {
  const { build } = await import('esbuild');
  const tmp = `${dist}.tmp-${process.pid}`;
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    outdir: tmp,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    metafile: true,
    logLevel: 'warning',
  });
  fs.writeFileSync(path.join(tmp, META), JSON.stringify(result.metafile));
  // Two workers starting at once may both build: whichever swap comes second finds the other's equal build.
  const old = `${dist}.old-${process.pid}`;
  try {
    fs.renameSync(dist, old);
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
  try {
    fs.renameSync(tmp, dist);
  } catch (e) {
    if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
  }
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(old, { recursive: true, force: true });
}

/** `npm run worker` split into node's flags, the file it runs and its arguments (the tests and the bench run it so). */
export function npmRunWorker() {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const [node, ...rest] = pkg.scripts.worker.split(/\s+/);
  const file = rest.findIndex((a) => !a.startsWith('-'));
  if (node !== 'node' || file < 0) throw new Error(`unexpected worker script: ${pkg.scripts.worker}`);
  return { nodeArgs: rest.slice(0, file), file: path.join(ROOT, rest[file]), args: rest.slice(file + 1) };
}

// `node scripts/build.mjs [--outdir=<dir>]` (a folder elsewhere: the tests read its metafile).
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = process.argv.find((a) => a.startsWith('--outdir='))?.slice('--outdir='.length);
  await buildWorker(outdir ? path.resolve(outdir) : WORKER_DIST);
}
