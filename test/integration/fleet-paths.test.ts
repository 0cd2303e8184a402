// Paths in a fleet: a local model path or a data path is a path on the Mac that trains. A remote worker (its own
// process and DATA_DIR) checks each before the trainer starts: one it cannot see fails the run at once with the
// reason (shared storage needed; upload instead), without an attempt; one it can see trains.
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { spawnWorker, type WorkerProcess } from '../helpers/chaos.js';
import { createTestEnv, redisUrl, TEST_DATA, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

let env: TestEnv;
let base: string;
let worker: WorkerProcess | undefined;
let workerDir: string;

beforeAll(async () => {
  env = await createTestEnv();
  base = await env.app.listen({ port: 0, host: '127.0.0.1' });
  workerDir = fs.mkdtempSync(path.join(env.dataDir, 'remote-'));
});
afterAll(async () => {
  worker?.child.kill('SIGTERM');
  await worker?.exited();
  await env.cleanup();
});

/** A copy of a test_data folder inside the control plane's DATA_DIR (an allowed root). */
function copy(from: string, name: string): string {
  const to = path.join(env.dataDir, 'inputs', name);
  fs.cpSync(path.join(TEST_DATA, from), to, { recursive: true });
  return to;
}

async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await env.app.inject({
    method: 'POST',
    url: '/v1/runs',
    payload: { method: 'sft', iters: 2, batch_size: 1, ...body },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string }>().id;
}

async function ended(id: string) {
  return waitFor(
    async () => {
      const r = (await env.app.inject({ url: `/v1/runs/${id}` })).json<{
        status: string;
        error: string | null;
        attempt: number;
        worker: string | null;
      }>();
      return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : null;
    },
    { timeoutMs: 60_000, what: `run ${id} to end` },
  );
}

describe('a remote worker and paths', () => {
  it('fails a run whose model or data path is missing on the worker, with the reason; trains one whose paths it has', async () => {
    const goneModel = copy('models/llama-tiny', 'model-gone');
    const goneData = copy('sft-text', 'data-gone');
    const model = copy('models/llama-tiny', 'model-here');
    const data = copy('sft-text', 'data-here');
    // Accepted: the control plane sees every path. Then the first two leave (this worker's Mac lacks them).
    const noModel = await submit({ model: goneModel, data });
    const noData = await submit({ model: 'mlx-community/x', data: goneData });
    const fine = await submit({ model, data });
    fs.rmSync(goneModel, { recursive: true });
    fs.rmSync(goneData, { recursive: true });

    const { token } = (
      await env.app.inject({ method: 'POST', url: '/v1/workers', payload: { name: 'vm-2' } })
    ).json<{ token: string }>();
    worker = spawnWorker({
      dataDir: workerDir,
      redisUrl: redisUrl(),
      prefix: env.prefix,
      env: { SERVER_URL: base, WORKER_TOKEN: token },
    });
    await worker.ready();

    const a = await ended(noModel);
    expect(a.status).toBe('failed');
    expect(a.error).toContain(
      `model path ${goneModel} not found on worker vm-2: paths need shared storage; name a Hugging Face repo id instead`,
    );
    expect(a.attempt).toBe(0); // no trainer started
    const b = await ended(noData);
    expect(b.status).toBe('failed');
    expect(b.error).toContain(
      `data folder ${goneData} not found on worker vm-2: paths need shared storage; upload it instead (POST /v1/datasets`,
    );
    expect(b.attempt).toBe(0);
    const c = await ended(fine);
    expect(c.status, c.error ?? '').toBe('succeeded');
    expect(c.worker).toBe('vm-2');
  }, 120_000);
});
