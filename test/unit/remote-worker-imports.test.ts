// A remote worker loads only what it needs: following every static import from its entry (src/worker/main.ts's
// remote branch), no module of the control plane (SQLite, Fastify, the dashboard) is reached; and the same holds for
// the compiled worker `npm run worker` starts (scripts/build.mjs), read from the build's metafile.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_PACKAGES =
  /^(better-sqlite3|drizzle-orm|fastify|@fastify\/.*|@bull-board\/.*|fastify-type-provider-zod|uplot)(\/|$)/;
const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm;
const DYNAMIC = /import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every file and package reached by static imports from `entry` (type-only imports are erased, so skipped). */
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      if (/^\s*(?:import|export)\s+type\s/.test(m[0])) continue;
      const spec = m[1] ?? m[2]!;
      if (spec.startsWith('.')) visit(path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  };
  visit(entry);
  return { files, packages };
}

describe('the remote worker import graph', () => {
  const { files, packages } = importGraph(path.join(SRC, 'worker/remote/start-remote-worker.ts'));
  const rel = [...files].map((f) => path.relative(SRC, f));

  it('reaches the worker core, the HTTP reporter and the spool', () => {
    expect(rel).toEqual(
      expect.arrayContaining([
        'worker/worker-core.ts',
        'worker/process-run.ts',
        'worker/run-attempt.ts',
        'worker/remote/http-reporter.ts',
        'worker/remote/report-spool.ts',
      ]),
    );
  });

  it('reaches no SQLite, API, report handler or dashboard module', () => {
    expect(
      rel.filter((f) => /^(db|api|reports|queue-sync|notify|datasets\/(validate|store)|web)\//.test(f)),
    ).toEqual([]);
    expect(rel).not.toContain('worker/in-process-reporter.ts');
    expect(rel).not.toContain('worker/create-worker.ts');
  });

  it('loads no server package', () => {
    const server = [...packages].filter((p) => SERVER_PACKAGES.test(p));
    expect(server).toEqual([]);
    expect(packages).toContain('bullmq');
  });

  it('the worker entry loads the remote or the local worker only when it is the one used', () => {
    const main = fs.readFileSync(path.join(SRC, 'worker/main.ts'), 'utf8');
    const statics = [...main.matchAll(IMPORT)].map((m) => m[1] ?? m[2]);
    expect(
      statics.filter((s) => /start-worker-process|start-remote-worker|redis-bootstrap/.test(s!)),
    ).toEqual([]);
    expect([...main.matchAll(DYNAMIC)].map((m) => m[1])).toEqual([
      './remote/start-remote-worker.js',
      '../shared/redis-bootstrap.js',
      './start-worker-process.js',
    ]);
    for (const f of ['../shared/config.js', '../shared/logger.js', '../shared/shutdown.js']) {
      const { files: reached } = importGraph(path.resolve(SRC, 'worker', f.replace(/\.js$/, '.ts')));
      expect([...reached].map((x) => path.relative(SRC, x)).filter((x) => /^(db|api)\//.test(x))).toEqual([]);
    }
  });
});

interface Metafile {
  outputs: Record<
    string,
    {
      entryPoint?: string;
      inputs: Record<string, unknown>;
      imports: { path: string; kind: string; external?: boolean }[];
    }
  >;
}

describe('the compiled worker (dist/worker, what npm run worker starts)', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-build-'));
  afterAll(() => fs.rmSync(out, { recursive: true, force: true }));
  execFileSync(process.execPath, [
    path.join(ROOT, 'scripts/build.mjs'),
    `--outdir=${path.join(out, 'worker')}`,
  ]);
  const meta = JSON.parse(fs.readFileSync(path.join(out, 'worker', 'meta.json'), 'utf8')) as Metafile;
  const outputs = new Map(Object.entries(meta.outputs).map(([k, v]) => [path.basename(k), v]));
  /** Inputs and packages of `chunk` and every chunk it imports statically (what loading it loads). */
  const loaded = (chunk: string) => {
    const inputs = new Set<string>();
    const packages = new Set<string>();
    const seen = new Set<string>();
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      const o = outputs.get(name)!;
      for (const i of Object.keys(o.inputs)) inputs.add(i);
      for (const i of o.imports) {
        if (i.kind !== 'import-statement') continue;
        if (i.external) packages.add(i.path);
        else visit(path.basename(i.path));
      }
    };
    visit(chunk);
    return { inputs: [...inputs], packages: [...packages] };
  };
  const chunkOf = (entry: string) =>
    [...outputs].find(([, o]) => o.entryPoint === entry)?.[0] ?? `no output for ${entry}`;

  it('starts at dist/worker/main.js and loads the remote worker as a chunk of its own', () => {
    expect(chunkOf('src/worker/main.ts')).toBe('main.js');
    expect(outputs.has(chunkOf('src/worker/remote/start-remote-worker.ts'))).toBe(true);
  });

  it('the entry and the remote worker load no SQLite, API, report handler or server package', () => {
    const main = loaded('main.js');
    const remote = loaded(chunkOf('src/worker/remote/start-remote-worker.ts'));
    const inputs = [...main.inputs, ...remote.inputs];
    expect(inputs).toContain('src/worker/remote/http-reporter.ts');
    expect(
      inputs.filter((f) =>
        /^src\/(db|api|reports|queue-sync|notify|datasets\/(validate|store)|web)\//.test(f),
      ),
    ).toEqual([]);
    expect(inputs).not.toContain('src/worker/in-process-reporter.ts');
    const packages = [...main.packages, ...remote.packages];
    expect(packages.filter((p) => SERVER_PACKAGES.test(p))).toEqual([]);
    expect(packages).toContain('bullmq');
  });

  it('the local worker, loaded only without SERVER_URL, is where SQLite is', () => {
    const local = loaded(chunkOf('src/worker/start-worker-process.ts'));
    expect(local.packages).toContain('better-sqlite3');
  });
});
