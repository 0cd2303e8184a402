// Opening and migrating the database file: pragmas, idempotent migrations, and several processes starting
// at once from another working directory (the API and the worker share one file).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { closeDb, openDb } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { createTempDb, type TempDb } from '../helpers/temp-db.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function tempDb(): TempDb {
  const t = createTempDb();
  cleanups.push(() => t.cleanup());
  return t;
}

function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mlxq-migrate-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('openDb', () => {
  it('turns on WAL, foreign keys, a busy timeout and synchronous=NORMAL, creating missing folders', () => {
    const file = path.join(tempDir(), 'nested', 'deeper', 'x.sqlite');
    const db = openDb(file);
    try {
      const p = (name: string) => db.$client.pragma(name, { simple: true });
      expect(p('journal_mode')).toBe('wal');
      expect(p('foreign_keys')).toBe(1);
      expect(p('busy_timeout')).toBe(5000);
      expect(p('synchronous')).toBe(1);
    } finally {
      closeDb(db);
      closeDb(db);
    }
  });
});

describe('migrate', () => {
  it('creates every table, records the migrations, and applies nothing the second time', () => {
    const t = tempDb();
    const tables = t.db.$client
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .pluck()
      .all();
    expect(tables).toEqual([
      '__drizzle_migrations',
      'artifacts',
      'datasets',
      'jobs',
      'log_lines',
      'metrics',
      'run_attempts',
      'run_events',
      'run_tags',
      'runs',
      'sweeps',
      'webhook_deliveries',
      'webhooks',
      'worker_credentials',
    ]);
    const again = migrate(t.db);
    expect(again.applied).toBe(0);
    expect(t.db.$client.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get()).toBe(again.total);
    expect(t.db.$client.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(t.db.$client.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('lets several processes migrate one new file at the same time, from another working directory', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'shared.sqlite');
    const script = `
      import { openDb, closeDb } from ${JSON.stringify(pathToFileURL(path.join(root, 'src/db/client.ts')).href)};
      import { migrate } from ${JSON.stringify(pathToFileURL(path.join(root, 'src/db/migrate.ts')).href)};
      const db = openDb(${JSON.stringify(file)});
      try { console.log(JSON.stringify(migrate(db))); } finally { closeDb(db); }
    `;
    const tsx = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;
    const run = () =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, ['--import', tsx, '--input-type=module', '-e', script], {
          cwd: dir,
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('close', (code) => resolve({ code, out, err }));
      });
    const results = await Promise.all([run(), run(), run(), run()]);
    for (const r of results) expect(r.code, r.err).toBe(0);
    const applied = results.map((r) => (JSON.parse(r.out) as { applied: number; total: number }).applied);
    const total = (JSON.parse(results[0]?.out ?? '{}') as { total: number }).total;
    expect(applied.filter((n) => n === total)).toHaveLength(1);
    expect(applied.filter((n) => n === 0)).toHaveLength(3);
    const db = openDb(file);
    try {
      expect(db.$client.prepare('SELECT count(*) FROM __drizzle_migrations').pluck().get()).toBe(total);
    } finally {
      closeDb(db);
    }
  });
});
