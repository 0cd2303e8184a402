import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { getLogLines } from '../../src/db/logs-repository.js';
import { getRun, sftRun, submit, waitStatus } from '../helpers/chaos.js';
import { useTestEnv } from '../helpers/use-test-env.js';

const CAP = 4096;
const env = useTestEnv({ LOG_CAP_BYTES: String(CAP) });

describe('LOG_CAP_BYTES', () => {
  it('keeps the head and the tail of a long log, with a marker line between, in the file and in SQLite', async () => {
    await env.startWorker({ trainerEnv: { MLX_STANDIN_LINES_PER_ITER: '40' } });
    const created = await submit(env.app, sftRun(30, 10));
    const run = await waitStatus(env.app, created.id, ['succeeded', 'failed', 'cancelled']);
    expect(run.status, run.error ?? '').toBe('succeeded');
    const printed = (await getRun(env.app, created.id)) as unknown as { logBytes: number; logLines: number };
    expect(printed.logLines).toBeGreaterThan(1200);
    expect(printed.logBytes).toBeGreaterThan(10 * CAP);

    const file = fs.readFileSync(path.join(run.runDir, 'train.log'), 'utf8');
    const stored = getLogLines(env.db, created.id).map((l) => l.text);
    for (const lines of [file.split('\n').slice(0, -1), stored]) {
      expect(lines[0]).toMatch(/^\[mlxq\] attempt 1 /);
      const markers = lines.filter((l) =>
        /^\[\.\.\. \d+ lines omitted: the log is capped at 4096 bytes \(LOG_CAP_BYTES\) \.\.\.\]$/.test(l),
      );
      expect(markers).toHaveLength(1);
      const at = lines.indexOf(markers[0]!);
      expect(at).toBeGreaterThan(0);
      expect(at).toBeLessThan(lines.length - 1);
      expect(lines.some((l, i) => i > at && /Saved final weights to/.test(l))).toBe(true);
      expect(lines.some((l, i) => i > at && /iter 30 line 40\/40/.test(l))).toBe(true);
      expect(lines.some((l) => /iter 15 line/.test(l))).toBe(false);
      const omitted = Number(/(\d+) lines omitted/.exec(markers[0]!)![1]);
      expect(lines.length - 1 + omitted).toBe(printed.logLines);
    }
    expect(Buffer.byteLength(file)).toBeLessThanOrEqual(CAP + 200);
    expect(file).toBe(stored.map((l) => `${l}\n`).join(''));
  });
});
