// A remote worker's run-folder pruning: past the newest WORKER_KEEP_RUNS folders, only a folder whose run is over
// (final, or unknown to the control plane) goes; one it trains, one still running, and one it cannot ask about stay.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';

import type { RunStatus } from '../../src/domain/run-status.js';
import { pruneRunFolders } from '../../src/worker/remote/run-folders.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Run folders named `names`, the first the newest. */
function runsDir(names: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-runs-'));
  dirs.push(dir);
  const now = Date.now() / 1000;
  names.forEach((n, i) => {
    fs.mkdirSync(path.join(dir, n, 'adapters'), { recursive: true });
    fs.utimesSync(path.join(dir, n), now - i * 60, now - i * 60);
  });
  return dir;
}

const statuses: Record<string, RunStatus | null | Error> = {
  newest: 'succeeded',
  final: 'succeeded',
  cancelled: 'cancelled',
  gone: null,
  running: 'running',
  interrupted: 'interrupted',
  unreachable: new Error('ECONNREFUSED'),
  mine: 'succeeded',
};

async function prune(dir: string, keep: number, active: string[] = []) {
  return pruneRunFolders({
    runsDir: dir,
    keep,
    active: new Map(active.map((a) => [a, null])),
    statusOf: async (id) => {
      const s = statuses[id];
      if (s instanceof Error) throw s;
      return s ?? null;
    },
    logger: pino({ level: 'silent' }),
  });
}

describe('pruneRunFolders', () => {
  it('keeps the newest `keep` folders and removes older ones whose run is final or gone', async () => {
    const dir = runsDir(['newest', 'final', 'cancelled', 'gone']);
    expect((await prune(dir, 1)).sort()).toEqual(['cancelled', 'final', 'gone']);
    expect(fs.readdirSync(dir)).toEqual(['newest']);
  });

  it('never removes a run it works on, one not final (it may resume here), or one whose status is unknown', async () => {
    const dir = runsDir(['mine', 'running', 'interrupted', 'unreachable', 'final']);
    expect(await prune(dir, 0, ['mine'])).toEqual(['final']);
    expect(fs.readdirSync(dir).sort()).toEqual(['interrupted', 'mine', 'running', 'unreachable']);
  });

  it('with no runs folder yet it does nothing', async () => {
    expect(await prune(path.join(os.tmpdir(), 'mlxq-no-such-runs-dir'), 0)).toEqual([]);
  });
});
