// Follow-up jobs when things go wrong: the broken-GGUF mlx-lm version, a Metal out-of-memory abort, short disk
// space, and a cancel while a job's tool runs.
import { afterEach, describe, expect, it } from 'vitest';

import { trainedRun, waitJobFinal } from '../helpers/follow-up.js';
import { createTestEnv, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test JSON bodies

let env: TestEnv;
afterEach(async () => {
  await env.cleanup();
});

const post = (runId: string, body: unknown) =>
  env.app.inject({ method: 'POST', url: `/v1/runs/${runId}/jobs`, payload: body as Json });

describe('follow-up faults', { timeout: 150_000 }, () => {
  it("refuses GGUF on the worker's broken mlx-lm version; a Metal abort and short disk fail the job with the reason", async () => {
    env = await createTestEnv();
    await env.startWorker({
      trainerEnv: { MLX_LM_STANDIN_VERSION: '0.31.3', MLX_LM_STANDIN_METAL_OOM: 'generate' },
      config: { diskReserveBytes: 1e18 },
    });
    const run = await trainedRun(env);
    const gguf = await post(run.id as string, { kind: 'export', format: 'gguf' });
    expect(gguf.statusCode).toBe(400);
    expect(gguf.json().issues[0]).toMatchObject({ path: 'format' });
    expect(gguf.json().issues[0].message).toContain('mlx-lm 0.31.3');
    expect(gguf.json().issues[0].message).toContain('llama, mistral, mixtral');

    const samples = await waitJobFinal(
      env,
      (await post(run.id as string, { kind: 'samples', prompts: ['Hi'] })).json<Json>().id as string,
    );
    expect(samples.status).toBe('failed');
    expect(samples.error).toContain('mlx_lm generate ran out of GPU memory (Metal abort:');
    expect(samples.error).toContain('kIOGPUCommandBufferCallbackErrorOutOfMemory');

    const fuse = await waitJobFinal(
      env,
      (await post(run.id as string, { kind: 'fuse', verify: false })).json<Json>().id as string,
    );
    expect(fuse.status).toBe('failed');
    expect(fuse.error).toMatch(
      /^not enough disk space: the fused model needs about [\d.]+ GB \(model [\d.]+ GB x 3\.56 for dequantizing\), and 0\.000 GB are free/,
    );
  });

  it('cancels a job while its tool runs (202, then cancelled), and a queued one at once (200)', async () => {
    env = await createTestEnv();
    await env.startWorker({ trainerEnv: { MLX_LM_STANDIN_TOKEN_SECONDS: '0.5' } });
    const run = await trainedRun(env);
    const slow = (
      await post(run.id as string, { kind: 'samples', prompts: ['Hello there'], max_tokens: 200 })
    ).json<Json>();
    const queued = (await post(run.id as string, { kind: 'evaluate' })).json<Json>();
    await waitFor(
      async () =>
        (await env.app.inject({ method: 'GET', url: `/v1/jobs/${slow.id}` })).json<Json>().status ===
        'running',
      { timeoutMs: 30_000, what: 'the samples job to run' },
    );
    const q = await env.app.inject({ method: 'POST', url: `/v1/jobs/${queued.id}/cancel` });
    expect(q.statusCode).toBe(200);
    expect(q.json().status).toBe('cancelled');
    const c = await env.app.inject({ method: 'POST', url: `/v1/jobs/${slow.id}/cancel` });
    expect(c.statusCode).toBe(202);
    const done = await waitJobFinal(env, slow.id as string, 30_000);
    expect(done.status).toBe('cancelled');
    expect((await env.app.inject({ method: 'POST', url: `/v1/jobs/${slow.id}/cancel` })).statusCode).toBe(
      409,
    );
  });
});
