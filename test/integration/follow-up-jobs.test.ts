// Follow-up jobs over HTTP on a succeeded run, against the stand-in mlx_lm: evaluate, samples, fuse with proof, export.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  evalDataTokens,
  QWEN_4BIT,
  sha256,
  trainedRun,
  waitJobFinal,
  waitRunFinal,
} from '../helpers/follow-up.js';
import { createTestEnv, type TestEnv } from '../helpers/test-env.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test JSON bodies

let env: TestEnv;
let run: Json;
let lmstudio: string;

beforeAll(async () => {
  lmstudio = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-lmstudio-'));
  env = await createTestEnv({ LMSTUDIO_MODELS_DIR: lmstudio });
  await env.startWorker();
  run = await trainedRun(env);
}, 120_000);
afterAll(async () => {
  await env.cleanup();
  fs.rmSync(lmstudio, { recursive: true, force: true });
});

async function post(runId: string, body: unknown) {
  return env.app.inject({ method: 'POST', url: `/v1/runs/${runId}/jobs`, payload: body as Json });
}

async function job(body: unknown): Promise<Json> {
  const res = await post(run.id as string, body);
  expect(res.statusCode, res.body).toBe(201);
  return waitJobFinal(env, res.json<Json>().id as string);
}

describe('follow-up jobs of a succeeded run', { timeout: 120_000 }, () => {
  it('evaluate returns test loss and perplexity (mlx_lm lora --test for SFT)', async () => {
    const j = await job({ kind: 'evaluate' });
    expect(j.status, j.error).toBe('succeeded');
    // tokens: counted with the model's tokenizer and mlx-lm's batching; here the stand-in's word tokenizer.
    expect(j.result).toMatchObject({
      tool: 'mlx_lm lora --test',
      batches: 4,
      rows_scored: 4,
      tokens: evalDataTokens(),
    });
    expect(j.result.test_loss).toBeGreaterThan(0);
    expect(j.result.test_ppl).toBeCloseTo(Math.exp(j.result.test_loss), 1);
    expect(j.logTail.join('\n')).toContain('Test loss');
  });

  it('samples differ between the base and the adapter, with tokens, speed and memory', async () => {
    const j = await job({ kind: 'samples', count: 2, max_tokens: 32 });
    expect(j.status, j.error).toBe('succeeded');
    expect(j.result.prompts).toHaveLength(2);
    expect(j.result.prompts[0].prompt).toBe('Do you make sandwiches?');
    for (const p of j.result.prompts) {
      expect(p.base.text).not.toBe(p.adapter.text);
      expect(p.adapter).toMatchObject({
        generationTokens: expect.any(Number),
        generationTps: expect.any(Number),
        peakMemoryGb: expect.any(Number),
      });
    }
  });

  it('a fuse of the quantized base is dequantized automatically and verified; its artifact downloads with the recorded sha256', async () => {
    const j = await job({
      kind: 'fuse',
      verify: { prompts: ['Hello there', 'Do you deliver?'], max_tokens: 24 },
    });
    expect(j.status, j.error).toBe('succeeded');
    expect(j.result).toMatchObject({
      dequantized: true,
      verified: true,
      verification: { verified: true, prompts: 2 },
    });
    const config = JSON.parse(
      fs.readFileSync(path.join(j.result.path as string, 'config.json'), 'utf8'),
    ) as Json;
    expect(config.quantization).toBeUndefined();
    const arts = (await env.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/artifacts` })).json<{
      items: Json[];
    }>().items;
    const fused = arts.find((a) => a.jobId === j.id)!;
    expect(fused).toMatchObject({ kind: 'fused_model', verified: true, isDir: true });
    const dl = await env.app.inject({ method: 'GET', url: fused.downloadUrl as string });
    expect(sha256(dl.rawPayload)).toBe(fused.sha256);
  });

  it('a fuse that loses the adapter fails verification with the message and the first differing prompt', async () => {
    const j = await job({
      kind: 'fuse',
      dequantize: false,
      verify: { prompts: ['Hello there'], max_tokens: 24 },
    });
    expect(j.status).toBe('failed');
    expect(j.error).toContain('the fused model does not reproduce the adapter: prompt #1 "Hello there"');
    expect(j.error).toContain('the adapter was lost');
    expect(j.result).toMatchObject({ verified: false, dequantized: false });
    const arts = (await env.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/artifacts` })).json<{
      items: Json[];
    }>().items;
    expect(arts.some((a) => a.jobId === j.id)).toBe(false);
  });

  it('GGUF for a llama model yields a .gguf artifact from a verified fuse', async () => {
    const j = await job({ kind: 'export', format: 'gguf' });
    expect(j.status, j.error).toBe('succeeded');
    expect(j.result.path).toMatch(/\.gguf$/);
    expect(
      fs
        .readFileSync(j.result.path as string)
        .subarray(0, 4)
        .toString(),
    ).toBe('GGUF');
    const arts = (await env.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/artifacts` })).json<{
      items: Json[];
    }>().items;
    expect(arts.find((a) => a.jobId === j.id)).toMatchObject({ kind: 'gguf', verified: true });
  });

  it('mlx quantized, LM Studio and Ollama exports are artifacts', async () => {
    const mlx = await job({ kind: 'export', format: 'mlx', bits: 4, group_size: 64 });
    expect(mlx.status, mlx.error).toBe('succeeded');
    expect(mlx.result).toMatchObject({ bits_per_weight: 4.5 });
    const lm = await job({ kind: 'export', format: 'lmstudio', name: 'tiny-test' });
    expect(lm.status, lm.error).toBe('succeeded');
    expect(lm.result.path).toBe(path.join(env.config.lmstudioModelsDir, 'mlxq', 'tiny-test'));
    expect(fs.existsSync(path.join(lm.result.path as string, 'model.safetensors'))).toBe(true);
    const ol = await job({ kind: 'export', format: 'ollama', name: 'tiny' });
    expect(ol.status, ol.error).toBe('succeeded');
    expect(fs.readFileSync(ol.result.path as string, 'utf8')).toMatch(/^FROM \//m);
    expect(ol.result.command).toBe(`ollama create tiny -f ${ol.result.path}`);
    const kinds = (await env.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/artifacts` }))
      .json<{ items: Json[] }>()
      .items.map((a) => a.kind);
    expect(kinds).toEqual(
      expect.arrayContaining(['quantized_model', 'lmstudio', 'ollama', 'eval_report', 'samples']),
    );
  });

  it("lists the run's jobs; a finished job cannot be cancelled", async () => {
    const list = (await env.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/jobs` })).json<{
      items: Json[];
    }>().items;
    expect(list.length).toBeGreaterThanOrEqual(6);
    const res = await env.app.inject({ method: 'POST', url: `/v1/jobs/${list[0]!.id}/cancel` });
    expect(res.statusCode).toBe(409);
  });
});

describe('follow-up requests that cannot work', { timeout: 120_000 }, () => {
  it('GGUF for a qwen2 model gets a 400 naming qwen2 and the supported types', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: { method: 'sft', model: QWEN_4BIT, data: run.data, iters: 2, batch_size: 2 },
    });
    const qwen = await waitFinalRun(res.json<Json>().id as string);
    const r = await post(qwen.id as string, { kind: 'export', format: 'gguf' });
    expect(r.statusCode).toBe(400);
    expect(r.json().issues[0].path).toBe('format');
    expect(r.json().issues[0].message).toContain('qwen2');
    expect(r.json().issues[0].message).toContain('llama, mistral, mixtral');
  });

  it('409 for a run that has not succeeded; 400 naming the field for bad options; 404 for unknown ids', async () => {
    const queued = await env.app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: { method: 'sft', model: run.model, data: run.data, iters: 2, batch_size: 2 },
    });
    const id = queued.json<Json>().id as string;
    await env.app.inject({ method: 'POST', url: `/v1/runs/${id}/cancel` });
    expect((await waitFinalRun(id)).status).toBe('cancelled');
    const early = await post(id, { kind: 'evaluate' });
    expect(early.statusCode).toBe(409);
    expect(early.json().message).toContain('follow-up jobs need a succeeded run');
    const bad = await post(run.id as string, { kind: 'samples', prompts: [] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0].path).toBe('prompts');
    expect((await post(run.id as string, { kind: 'fuse', dequantize: 'maybe' })).json().issues[0].path).toBe(
      'dequantize',
    );
    expect((await env.app.inject({ method: 'GET', url: '/v1/jobs/job_nope' })).statusCode).toBe(404);
    expect((await post('run_nope', { kind: 'evaluate' })).statusCode).toBe(404);
  });
});

async function waitFinalRun(id: string): Promise<Json> {
  return waitRunFinal(env, id);
}
