// A remote worker (its own process and DATA_DIR) keeps the folders of its newest WORKER_KEEP_RUNS runs: once a newer
// run ends, an older final run's folder goes from that Mac, and its adapter stays at the control plane; past the
// newest, a folder of a run the control plane does not know goes too, already at start.
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { spawnWorker, type WorkerProcess } from '../helpers/chaos.js';
import { createTestEnv, redisUrl, TEST_DATA, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

let env: TestEnv;
let worker: WorkerProcess | undefined;
let workerDir: string;

beforeAll(async () => {
  env = await createTestEnv();
  const base = await env.app.listen({ port: 0, host: '127.0.0.1' });
  workerDir = fs.mkdtempSync(path.join(env.dataDir, 'remote-'));
  // Left by an earlier life of this Mac: two runs the control plane has never heard of, an hour and two old.
  for (const [name, hoursAgo] of [
    ['run_gone_a', 2],
    ['run_gone_b', 1],
  ] as const) {
    fs.mkdirSync(path.join(workerDir, 'runs', name, 'adapters'), { recursive: true });
    const t = Date.now() / 1000 - hoursAgo * 3600;
    fs.utimesSync(path.join(workerDir, 'runs', name), t, t);
  }
  const { token } = (
    await env.app.inject({ method: 'POST', url: '/v1/workers', payload: { name: 'keeper' } })
  ).json<{ token: string }>();
  worker = spawnWorker({
    dataDir: workerDir,
    redisUrl: redisUrl(),
    prefix: env.prefix,
    env: { SERVER_URL: base, WORKER_TOKEN: token, WORKER_KEEP_RUNS: '1' },
  });
  await worker.ready();
});
afterAll(async () => {
  worker?.child.kill('SIGTERM');
  await worker?.exited();
  await env.cleanup();
});

async function train(): Promise<string> {
  const res = await env.app.inject({
    method: 'POST',
    url: '/v1/runs',
    payload: {
      method: 'sft',
      model: 'mlx-community/x',
      data: path.join(TEST_DATA, 'sft-text'),
      iters: 2,
      batch_size: 1,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  const id = res.json<{ id: string }>().id;
  const run = await waitFor(
    async () => {
      const r = (await env.app.inject({ url: `/v1/runs/${id}` })).json<{
        status: string;
        error: string | null;
      }>();
      return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : null;
    },
    { timeoutMs: 60_000, what: `run ${id} to end` },
  );
  expect(run.status, run.error ?? '').toBe('succeeded');
  return id;
}

const folder = (id: string) => path.join(workerDir, 'runs', id);

describe('a remote worker and its run folders', () => {
  it('keeps the newest run folder (WORKER_KEEP_RUNS=1) and removes older ones once their run is over', async () => {
    await waitFor(() => !fs.existsSync(folder('run_gone_a')), { what: 'the older unknown run folder to go' });
    expect(fs.existsSync(folder('run_gone_b'))).toBe(true); // the newest stays, whatever its run
    const first = await train();
    await waitFor(() => !fs.existsSync(folder('run_gone_b')), { what: 'the other unknown run folder to go' });
    expect(fs.existsSync(folder(first))).toBe(true);
    const second = await train();
    await waitFor(() => !fs.existsSync(folder(first)), { what: "the first run's folder to go" });
    expect(fs.existsSync(path.join(folder(second), 'adapters'))).toBe(true);
    // Everything of the first run is at the control plane.
    expect(fs.existsSync(path.join(env.dataDir, 'runs', first, 'adapters', 'adapters.safetensors'))).toBe(
      true,
    );
  }, 150_000);
});
