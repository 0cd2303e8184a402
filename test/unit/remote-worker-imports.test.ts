// A remote worker loads only what it needs: following every static import from its entry (src/worker/main.ts's
// remote branch), no module of the control plane (SQLite, Fastify, the dashboard) is reached.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
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
    const server = [...packages].filter((p) =>
      /^(better-sqlite3|drizzle-orm|fastify|@fastify\/.*|@bull-board\/.*|fastify-type-provider-zod|uplot)$/.test(
        p,
      ),
    );
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
