import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';

import { getRun, sftRun, spawnWorker, submit, waitStatus, type WorkerProcess } from '../helpers/chaos.js';
import { createTestEnv, redisUrl, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

let env: TestEnv;
const procs: WorkerProcess[] = [];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-workers-'));
beforeEach(async () => {
  env = await createTestEnv();
});
afterEach(async () => {
  for (const w of procs.splice(0)) {
    w.child.kill('SIGKILL');
    await w.exited();
  }
  await env.cleanup();
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface WorkersJson {
  items: {
    name: string;
    state: string;
    stateText: string;
    reason: string | null;
    usable: boolean;
    versions: Record<string, string | null>;
    totalMemoryBytes: number;
    pid: number;
    lastSeen: string;
  }[];
  usable: number;
  waiting: string | null;
}
const workers = async () => (await env.app.inject({ method: 'GET', url: '/v1/workers' })).json<WorkersJson>();

/** A Python that cannot import the stand-in trainer (-I ignores PYTHONPATH) until the file is rewritten. */
function brokenPython(name: string): { file: string; fix(): void } {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, '#!/bin/sh\nexec python3 -I "$@"\n', { mode: 0o755 });
  return { file, fix: () => fs.writeFileSync(file, '#!/bin/sh\nexec python3 "$@"\n', { mode: 0o755 }) };
}

describe('workers say whether they can work', () => {
  it('a worker whose Python lacks mlx-lm-lora takes no job: the run stays queued with the reason, and a working worker next to it trains it', async () => {
    const python = brokenPython(`broken-${Date.now()}`);
    await env.startWorker({ config: { mlxPython: python.file, workerName: 'vm-1' } });
    const created = await submit(env.app, sftRun(6, 3));
    const listed = await waitFor(async () => ((await workers()).items.length === 1 ? workers() : null), {
      what: 'vm-1 in the registry',
    });
    expect(listed.usable).toBe(0);
    expect(listed.items[0]).toMatchObject({
      name: 'vm-1',
      state: 'unusable',
      usable: false,
      pid: process.pid,
    });
    expect(listed.items[0]!.reason).toMatch(/^mlx-lm-lora not installed \(.* -m pip install mlx-lm-lora\)$/);
    expect(listed.items[0]!.stateText).toBe(`unusable: ${listed.items[0]!.reason}`);
    expect(listed.items[0]!.versions.python).toMatch(/^3\./);
    expect(listed.items[0]!.totalMemoryBytes).toBe(os.totalmem());

    const waiting = (await env.app.inject({ method: 'GET', url: `/v1/runs/${created.id}` })).json();
    expect(waiting.status).toBe('queued');
    expect(waiting.waiting).toBe(`waiting: no usable worker; vm-1: ${listed.items[0]!.reason}`);
    expect(await env.queue.getJobCounts('active')).toEqual({ active: 0 });
    // /readyz reports the workers (the API itself is ready).
    const ready = (await env.app.inject({ method: 'GET', url: '/readyz' })).json();
    expect(ready.workers).toMatchObject({ usable: 0, items: [{ name: 'vm-1', state: 'unusable' }] });

    await env.startWorker({ config: { workerName: 'vm-2' } });
    const run = await waitStatus(env.app, created.id, ['succeeded', 'failed', 'cancelled']);
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect((await getRun(env.app, created.id)).attempts).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'succeeded' }),
    ]);
    const both = await workers();
    expect(both.items.map((w) => [w.name, w.state])).toEqual([
      ['vm-1', 'unusable'],
      ['vm-2', 'idle'],
    ]);
    expect(
      (await env.app.inject({ method: 'GET', url: `/v1/runs/${created.id}` })).json().waiting,
    ).toBeNull();
  });

  it('a failing worker checks its trainer again every PREFLIGHT_RECHECK_S and trains once it is fixed', async () => {
    const python = brokenPython(`fixed-later-${Date.now()}`);
    await env.startWorker({
      config: { mlxPython: python.file, workerName: 'vm-1', preflightRecheckMs: 300 },
    });
    const created = await submit(env.app, sftRun(6, 3));
    await waitFor(async () => (await workers()).items[0]?.state === 'unusable', { what: 'vm-1 unusable' });
    expect((await getRun(env.app, created.id)).status).toBe('queued');
    python.fix();
    const run = await waitStatus(env.app, created.id, ['succeeded', 'failed', 'cancelled']);
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect((await workers()).items[0]).toMatchObject({
      name: 'vm-1',
      state: 'idle',
      versions: { mlxLmLora: expect.any(String) },
    });
  });

  // retry: the lost state must show within a wall-clock window (2-5.5 s after the kill) measured by polling a real
  // worker process's beats on 2 shared cores; one late poll is tried once more, a wrong state fails twice.
  it(
    'a worker process reports its machine, re-checks on SIGHUP, and one killed with -9 shows as lost after WORKER_LOST_S',
    { retry: 1 },
    async () => {
      await env.cleanup();
      env = await createTestEnv({ WORKER_LOST_S: '3' });
      const python = brokenPython(`sighup-${Date.now()}`);
      const w = spawnWorker({
        dataDir: env.dataDir,
        redisUrl: redisUrl(),
        prefix: env.prefix,
        env: {
          MLX_PYTHON: python.file,
          WORKER_NAME: 'vm-3',
          WORKER_HEARTBEAT_S: '1',
          WORKER_LOST_S: '3',
          WORKER_MEMORY_GB: '16',
          WORKER_LABELS: 'studio, m2 ,studio',
        },
      });
      procs.push(w);
      await w.ready();
      const entry = (await waitFor(async () => (await workers()).items[0], {
        what: 'vm-3 listed',
      })) as unknown as Record<string, unknown>;
      expect(entry).toMatchObject({
        name: 'vm-3',
        totalMemoryBytes: 16e9,
        memorySource: 'WORKER_MEMORY_GB',
        labels: ['studio', 'm2'],
        lost: false,
      });
      expect(entry.chip).toEqual(expect.any(String));
      expect(entry.os).toMatch(/^(macOS \d|linux )/);
      expect(entry.freeDiskBytes).toBeGreaterThan(0);
      const created = await submit(env.app, sftRun(4, 2));
      await waitFor(async () => (await workers()).items[0]?.state === 'unusable', { what: 'vm-3 unusable' });
      python.fix();
      w.child.kill('SIGHUP');
      const run = await waitStatus(env.app, created.id, ['succeeded', 'failed', 'cancelled']);
      expect(run.status, run.error ?? '').toBe('succeeded');
      await waitFor(async () => (await workers()).items[0]?.state === 'idle', { what: 'vm-3 idle' });

      w.child.kill('SIGKILL');
      await w.exited();
      const killedAt = Date.now();
      const lost = await waitFor(
        async () => ((await workers()).items[0]?.state === 'lost' ? workers() : null),
        { timeoutMs: 8_000, what: 'vm-3 to show as lost' },
      );
      // Silent for more than WORKER_LOST_S (3 s) after its last beat, which came at most 1 s before the kill.
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(2000);
      expect(Date.now() - killedAt).toBeLessThanOrEqual(3000 + 1000 + 1500);
      expect(lost.items[0]).toMatchObject({ name: 'vm-3', state: 'lost', lost: true, usable: false });
      expect(lost.items[0]!.stateText).toMatch(/^lost: silent for \d+ s \(last seen idle\)$/);
      expect(lost.usable).toBe(0);
      expect(lost.waiting).toBe(`waiting: no usable worker; vm-3: ${lost.items[0]!.stateText}`);
    },
  );
});
