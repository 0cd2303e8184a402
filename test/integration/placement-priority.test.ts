// One worker serving the shared queue and a placement queue: priorities hold across queues, one job at a time, and a
// run handed back by a worker that cannot hold it waits (not failed) until a worker that can comes.
import { afterEach, describe, expect, it } from 'vitest';

import { publishWorker } from '../../src/shared/worker-registry.js';
import { getRun, sftRun, submit, waitStatus } from '../helpers/chaos.js';
import { createTestEnv, runQueue, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

let env: TestEnv;
afterEach(async () => {
  await env?.cleanup();
});

describe('placement queues and one worker', () => {
  it('the higher priority run goes first whichever queue it waits in; the worker trains one run at a time', async () => {
    env = await createTestEnv({ WORKER_MEMORY_GB: '64' });
    await env.startWorker({
      config: { workerName: 'pro-64', workerMemoryBytes: 64e9 },
      trainerEnv: { MLX_STANDIN_STEP_SECONDS: '0.1' },
    });
    const blocker = await submit(env.app, sftRun(10, 5));
    await waitStatus(env.app, blocker.id, ['running']);
    // Queued while the worker is busy: low priority in the shared queue first, then high priority in a placement queue.
    const low = await submit(env.app, sftRun(2, 2, { priority: 0 }));
    const high = await submit(env.app, sftRun(2, 2, { priority: 50, placement: { min_memory_gb: 32 } }));
    expect(runQueue(env, low.id).name).toBe('runs');
    expect(runQueue(env, high.id).name).toMatch(/^runs-m32-[0-9a-f]{8}$/);
    const [, lowDone, highDone] = await Promise.all(
      [blocker, low, high].map((r) =>
        waitStatus(env.app, r.id, ['succeeded', 'failed', 'cancelled'], 60_000),
      ),
    );
    const at = async (id: string) =>
      (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}` })).json<{
        startedAt: string;
        finishedAt: string;
        worker: string;
      }>();
    const [b, l, h] = await Promise.all([blocker.id, low.id, high.id].map(at));
    expect([lowDone!.status, highDone!.status]).toEqual(['succeeded', 'succeeded']);
    expect(Date.parse(h!.startedAt)).toBeGreaterThanOrEqual(Date.parse(b!.finishedAt));
    expect(Date.parse(l!.startedAt)).toBeGreaterThanOrEqual(Date.parse(h!.finishedAt));
    expect([b!.worker, l!.worker, h!.worker]).toEqual(['pro-64', 'pro-64', 'pro-64']);
  });

  it('a worker that finds it cannot hold a run hands it back instead of failing it; a worker that can takes it', async () => {
    env = await createTestEnv({ WORKER_MEMORY_GB: '192' });
    // The registry says mac-1 has 192 GB at submit (the run is admitted and routed for ≥ 100 GB); the mac-1 that then
    // starts has 64 GB: a worker that registered one thing and finds another at start-up.
    const now = Date.now();
    await publishWorker(
      env.redis,
      env.prefix,
      {
        name: 'mac-1',
        host: 'mac-1',
        pid: 1,
        versions: { python: null, mlx: null, mlxLm: null, mlxLmLora: null },
        totalMemoryBytes: 192e9,
        state: 'idle',
        startedAt: now,
        lastSeen: now,
      },
      60_000,
    );
    const created = await submit(env.app, sftRun(2, 2, { placement: { min_memory_gb: 100 } }));
    const shrunk = await env.startWorker({ config: { workerName: 'mac-1', workerMemoryBytes: 64e9 } });
    // Routing keeps it from a 64 GB worker: it waits in the ≥ 100 GB queue, which mac-1 does not serve, and says why.
    const waiting = await waitFor(
      async () => {
        const r = (await env.app.inject({ method: 'GET', url: `/v1/runs/${created.id}` })).json<{
          status: string;
          waiting: string | null;
        }>();
        return r.waiting?.includes('mac-1: has 64 GB') ? r : null;
      },
      { what: 'the run to wait for a worker with 100 GB' },
    );
    expect(waiting).toMatchObject({
      status: 'queued',
      waiting:
        'waiting for a worker with ≥ 100 GB of memory: no live worker can take it now; mac-1: has 64 GB of memory, placement.min_memory_gb asks for ≥ 100 GB',
    });
    // Put it where the 64 GB worker looks (as a run queued before its requirement existed would be): it takes the
    // job, finds it cannot hold the run, and hands it back, recorded, without using an attempt.
    const queue = runQueue(env, created.id);
    const job = (await queue.getJob(`train:${created.id}:1`))!;
    await job.remove();
    await env.queue.add(job.name, job.data, { jobId: job.id!, priority: 101 });
    const handed = await waitFor(
      async () => {
        const r = await getRun(env.app, created.id);
        return r.events.some((e) => e.reason?.startsWith('handed back by mac-1')) ? r : null;
      },
      { timeoutMs: 20_000, what: 'the hand-back event' },
    );
    expect(handed.status).toBe('queued');
    expect(handed.attempts).toEqual([]);
    expect(handed.events.find((e) => e.reason?.startsWith('handed back'))!.reason).toBe(
      'handed back by mac-1: it cannot train this run (has 64 GB of memory, placement.min_memory_gb asks for ≥ 100 GB)',
    );
    await shrunk.close('requeue');
    // A worker that can hold it comes: it trains it.
    await env.startWorker({ config: { workerName: 'mac-2', workerMemoryBytes: 192e9 } });
    const done = await waitStatus(env.app, created.id, ['succeeded', 'failed', 'cancelled'], 60_000);
    expect(done.status, done.error ?? '').toBe('succeeded');
    expect((await env.app.inject({ method: 'GET', url: `/v1/runs/${created.id}` })).json().worker).toBe(
      'mac-2',
    );
  });
});
