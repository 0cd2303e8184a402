import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { submit, waitStatus } from '../helpers/chaos.js';
import { mlxq } from '../helpers/cli.js';
import { createTestEnv, TEST_DATA, type TestEnv, waitJobState } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

const LLAMA = path.join(TEST_DATA, 'models', 'llama-3-8b');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-memory-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

/** An SFT dataset whose rows are ~8,200 bytes of text each: ≈2,050 tokens by the 4-bytes-per-token estimate. */
function longRows(): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'long-'));
  const row = (i: number) => JSON.stringify({ text: `${i} ${'lorem ipsum dolor '.repeat(455)}` });
  fs.writeFileSync(
    path.join(dir, 'train.jsonl'),
    `${Array.from({ length: 8 }, (_, i) => row(i)).join('\n')}\n`,
  );
  return dir;
}

/** The published scenario: Llama-3-8B (bf16), 1 adapted layer, batch 4, max length 2048. */
function bigRun(extra: Record<string, unknown> = {}) {
  return {
    method: 'sft',
    model: LLAMA,
    data: longRows(),
    iters: 4,
    batch_size: 4,
    num_layers: 1,
    max_seq_length: 2048,
    ...extra,
  };
}

/** A short SFT run of Llama-3-8B on the chat data set (its peak memory is measured), with `extra` request fields. */
function llamaSft(extra: Record<string, unknown> = {}) {
  return {
    method: 'sft',
    model: LLAMA,
    data: path.join(TEST_DATA, 'sft-chat'),
    iters: 4,
    batch_size: 2,
    steps_per_report: 2,
    ...extra,
  };
}

/** Submits `body` and waits for the run to end: the run as `waitStatus` returns it, and in full (GET /v1/runs/:id). */
async function endedRun(body: Record<string, unknown>) {
  const created = await submit(env!.app, body);
  const run = await waitStatus(env!.app, created.id, ['failed', 'succeeded', 'cancelled']);
  const full = (await env!.app.inject({ method: 'GET', url: `/v1/runs/${created.id}` })).json();
  return { created, run, full };
}

describe('memory estimate and admission', () => {
  it('a dry run carries the estimate with its breakdown, the usable memory per worker and whether it fits; the run keeps it', async () => {
    env = await createTestEnv({ WORKER_MEMORY_GB: '64' });
    const dry = await env.app.inject({ method: 'POST', url: '/v1/runs?dryRun=true', payload: bigRun() });
    expect(dry.statusCode, dry.body).toBe(200);
    const { memory, dataset } = dry.json();
    expect(dataset.lengths).toMatchObject({
      rows: 8,
      longestTokensEstimate: expect.any(Number),
      basis: expect.stringMatching(/bytes per token/),
    });
    expect(memory.estimate_gb).toBeGreaterThan(26.66 * 0.65);
    expect(memory.estimate_gb).toBeLessThan(26.66 * 1.35);
    expect(Object.keys(memory.breakdown).sort()).toEqual([
      'activations',
      'attention',
      'judge',
      'logits',
      'lora',
      'overhead',
      'reference',
      'weights',
    ]);
    expect(memory.usable_gb_by_worker).toEqual({ [os.hostname()]: 48 });
    expect(memory.fits).toBe(true);
    expect(memory.basis).toMatchObject({ family: 'llama', seqLength: 2048, lengthFrom: 'dataset' });

    const created = await submit(env.app, bigRun());
    const run = (await env.app.inject({ method: 'GET', url: `/v1/runs/${created.id}` })).json();
    expect(run.memory).toMatchObject({
      estimate_gb: memory.estimate_gb,
      fits: true,
      breakdown: memory.breakdown,
    });
  });

  it('a model that cannot be read gets "no estimate: <why>", not a guess, and is accepted', async () => {
    env = await createTestEnv({ WORKER_MEMORY_GB: '8' });
    const body = {
      method: 'sft',
      model: 'mlx-community/Qwen2.5-0.5B-Instruct-4bit',
      data: path.join(TEST_DATA, 'sft-chat'),
      iters: 2,
      batch_size: 2,
    };
    const dry = (await env.app.inject({ method: 'POST', url: '/v1/runs?dryRun=true', payload: body })).json();
    expect(dry.memory).toMatchObject({ estimate_gb: null, breakdown: null, fits: null });
    expect(dry.memory.reason).toMatch(
      /^no estimate: mlx-community\/Qwen2.5-0.5B-Instruct-4bit is not downloaded/,
    );
    await submit(env.app, body);
  });

  it('a run too large for every worker is refused with 422: estimate, breakdown, largest worker, and changes that do fit', async () => {
    env = await createTestEnv({ WORKER_MEMORY_GB: '32' });
    const res = await env.app.inject({ method: 'POST', url: '/v1/runs', payload: bigRun() });
    expect(res.statusCode, res.body).toBe(422);
    const body = res.json();
    expect(body.error).toBe('does_not_fit');
    expect(body.message).toMatch(/needs about 2\d\.\d+ GB .* the largest worker \(.+\) can use 21.33 GB/);
    expect(body.memory).toMatchObject({ fits: false, largest_worker: { usable_gb: 21.33 } });
    expect(body.memory.breakdown.weights).toBeCloseTo(16.06, 1);
    expect(body.suggestions.length).toBeGreaterThan(0);
    expect(await env.queue.count()).toBe(0);
    // Every suggestion is accepted as it stands: its new estimate fits.
    for (const s of body.suggestions) {
      expect(s.fits).toBe(true);
      const again = await env.app.inject({ method: 'POST', url: '/v1/runs', payload: bigRun(s.change) });
      expect(again.statusCode, `${JSON.stringify(s.change)}: ${again.body}`).toBe(201);
      expect(again.json().memory.estimate_gb).toBe(s.estimateGb);
    }
  });
});

describe('calibration', () => {
  it("GET /v1/memory/calibration compares each finished run's measured peak with its estimate, per method and model family", async () => {
    env = await createTestEnv({ WORKER_MEMORY_GB: '64' });
    await env.startWorker();
    const { full: run } = await endedRun(llamaSft());
    expect(run.peakMemoryGb).toBeGreaterThan(0);
    const cal = (await env.app.inject({ method: 'GET', url: '/v1/memory/calibration' })).json();
    expect(cal).toMatchObject({ expectedError: 0.35, margin: 1.2, tuneAfterRuns: 5 });
    expect(cal.groups).toEqual([
      expect.objectContaining({
        method: 'sft',
        family: 'llama',
        runs: 1,
        meanRatio: Math.round((run.peakMemoryGb / run.memory.estimate_gb) * 1000) / 1000,
        margin: 1.2,
      }),
    ]);
    expect(cal.groups[0].marginSource).toBe(
      'margin 1.2 (MEMORY_MARGIN): 1 of 5 measured sft/llama runs needed to tune it',
    );
  });

  it('once enough runs of a method and family are measured, admission uses the margin tuned from them', async () => {
    env = await createTestEnv({ WORKER_MEMORY_GB: '64', MEMORY_TUNE_AFTER_RUNS: '1' });
    await env.startWorker();
    const body = llamaSft();
    const before = (
      await env.app.inject({ method: 'POST', url: '/v1/runs?dryRun=true', payload: body })
    ).json();
    expect(before.memory.margin).toBe(1.2);
    await endedRun(body);
    const [group] = (await env.app.inject({ method: 'GET', url: '/v1/memory/calibration' })).json().groups;
    // The largest measured/estimate ratio × 1.1, rounded up to 0.05, within 1.0..3.0.
    const tuned = Math.min(3, Math.max(1, Math.ceil(group.maxRatio * 1.1 * 20 - 1e-9) / 20));
    expect(group).toMatchObject({ runs: 1, margin: tuned });
    expect(tuned).not.toBe(1.2);
    // Admission reads calibration at most once a second (CALIBRATION_TTL_MS): the tuned margin applies within it.
    const after = await waitFor(
      async () => {
        const dry = (
          await env!.app.inject({ method: 'POST', url: '/v1/runs?dryRun=true', payload: body })
        ).json();
        return dry.memory.margin === tuned ? dry : null;
      },
      { timeoutMs: 5_000, what: `admission to use the tuned margin ${tuned}` },
    );
    expect(after.memory.margin).toBe(tuned);
    expect(after.memory.notes).toContain(
      `margin ${tuned} tuned from 1 measured sft/llama runs (largest measured/estimate ${group.maxRatio} × 1.1)`,
    );
  });
});

describe('out of memory', () => {
  it("the stand-in's Metal abort (SIGABRT) ends the run out_of_memory with measured peak, estimate and advice, not retried", async () => {
    env = await createTestEnv({ WORKER_MEMORY_GB: '64', TRAINER_FAILURE_ATTEMPTS: '3' });
    await env.startWorker({ trainerEnv: { MLX_STANDIN_OOM_AT_ITER: '3' } });
    const { created, run, full } = await endedRun(llamaSft({ iters: 6, steps_per_report: 1 }));
    expect(run.status).toBe('failed');
    expect(run.stopReason).toBe('out_of_memory');
    expect(full.signal).toBe('SIGABRT');
    expect(run.attempts).toHaveLength(1);
    expect(full.outOfMemory.message).toBe(
      'libc++abi: terminating due to uncaught exception of type std::runtime_error: [METAL] Command buffer execution failed: Insufficient Memory (00000008:kIOGPUCommandBufferCallbackErrorOutOfMemory)',
    );
    expect(full.outOfMemory.peak_gb).toBeGreaterThan(16);
    expect(full.peakMemoryGb).toBe(full.outOfMemory.peak_gb);
    expect(full.outOfMemory.estimate_gb).toBe(full.memory.estimate_gb);
    expect(full.outOfMemory.advice.join('\n')).toMatch(/batch_size 2 → 1 with gradient_accumulation_steps 2/);
    expect(run.error).toMatch(/^Out of memory: libc\+\+abi/);
    expect(run.error).toMatch(/- grad_checkpoint: true/);
    await waitJobState(env, created.id, 'failed');

    // The CLI says it plainly, and `watch --notify` tells the desktop (a stand-in for osascript records its script).
    const apiUrl = await env.app.listen({ port: 0, host: '127.0.0.1' });
    const shown = await mlxq(['show', created.id], { apiUrl });
    expect(shown.stdout).toMatch(/^OUT OF MEMORY: peak \d+\.\d\d GB, estimate \d+\.\d\d GB$/m);
    expect(shown.stdout).toMatch(/^ {2}try: grad_checkpoint: true/m);
    const notified = path.join(tmp, `notify-${created.id}.txt`);
    const fakeOsascript = path.join(tmp, 'osascript');
    fs.writeFileSync(fakeOsascript, `#!/bin/sh\nprintf '%s\\n' "$@" > ${JSON.stringify(notified)}\n`, {
      mode: 0o755,
    });
    const watched = await mlxq(['watch', created.id, '--notify'], {
      apiUrl,
      env: { MLXQ_NOTIFY_COMMAND: fakeOsascript },
    });
    expect(watched.exitCode).toBe(1);
    expect(fs.readFileSync(notified, 'utf8')).toMatch(
      /^-e\ndisplay notification ".*Out of memory: libc\+\+abi.*" with title "mlxq: run ran out of memory"/,
    );
  });

  it('on_oom "reduce" retries with the batch halved (accumulation doubled) and succeeds once the batch fits', async () => {
    env = await createTestEnv({ WORKER_MEMORY_GB: '64' });
    await env.startWorker({ trainerEnv: { MLX_STANDIN_OOM_AT_ITER: '2', MLX_STANDIN_OOM_MIN_BATCH: '4' } });
    const { run, full } = await endedRun(
      llamaSft({ iters: 6, batch_size: 4, steps_per_report: 1, on_oom: 'reduce' }),
    );
    expect(run.status, run.error ?? '').toBe('succeeded');
    expect(run.attempts.map((a) => a.outcome)).toEqual(['failed', 'succeeded']);
    expect(full.outOfMemory.reductions).toEqual([
      {
        attempt: 2,
        step: 1,
        change: { batch_size: 2, gradient_accumulation_steps: 2 },
        why: 'batch_size 2 with gradient_accumulation_steps 2',
      },
    ]);
    expect(full.request).toMatchObject({ batch_size: 2, gradient_accumulation_steps: 2, on_oom: 'reduce' });
    expect(full.argv.join(' ')).toMatch(/--batch-size=2 .*--gradient-accumulation-steps=2/);
    expect(run.events.map((e) => e.reason)).toContain(
      'out of memory; on_oom reduce: retry 1 of 3 with batch_size 2 with gradient_accumulation_steps 2',
    );
  });
});
