// Helpers for follow-up job tests: train a run to success on a local tiny model, wait for jobs, sha256 of bodies.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { expect } from 'vitest';

import { TEST_DATA, type TestEnv } from './test-env.js';
import { waitFor } from './wait-for.js';

export const MODELS = path.join(TEST_DATA, 'models');
export const LLAMA_4BIT = path.join(MODELS, 'llama-tiny-4bit');
export const LLAMA = path.join(MODELS, 'llama-tiny');
export const QWEN_4BIT = path.join(MODELS, 'qwen2-tiny-4bit');
export const EVAL_DATA = path.join(TEST_DATA, 'sft-eval');

export function sftRequest(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    method: 'sft',
    model: LLAMA_4BIT,
    data: EVAL_DATA,
    iters: 6,
    batch_size: 2,
    steps_per_report: 2,
    save_every: 3,
    ...extra,
  };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test JSON bodies

export async function waitRunFinal(env: TestEnv, id: string, timeoutMs = 60_000): Promise<Json> {
  return waitFor(
    async () => {
      const r = (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}` })).json<Json>();
      return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : null;
    },
    { timeoutMs, what: `run ${id} to end`, intervalMs: 100 },
  );
}

/** Submits a run over HTTP and waits for it to succeed (a worker must be running). */
export async function trainedRun(env: TestEnv, extra: Record<string, unknown> = {}): Promise<Json> {
  const res = await env.app.inject({ method: 'POST', url: '/v1/runs', payload: sftRequest(extra) });
  expect(res.statusCode, res.body).toBe(201);
  const run = await waitRunFinal(env, res.json<Json>().id);
  expect(run.status, run.error).toBe('succeeded');
  return run;
}

export async function waitJobFinal(env: TestEnv, id: string, timeoutMs = 90_000): Promise<Json> {
  return waitFor(
    async () => {
      const r = (await env.app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json<Json>();
      return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : null;
    },
    { timeoutMs, what: `job ${id} to end`, intervalMs: 100 },
  );
}

export function sha256(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/**
 * The tokens `mlx_lm lora --test` scores on EVAL_DATA's test split without prompt masking, batch size 1, derived
 * from the stand-in tokenizer's rule (a chat message is its role token, one token per word, an end token): each
 * row scores as many target positions as it has tokens.
 */
export function evalDataTokens(): number {
  const rows = fs.readFileSync(path.join(EVAL_DATA, 'test.jsonl'), 'utf8').split('\n').filter(Boolean);
  const messageTokens = (m: { content: string }) => m.content.split(/\s+/).filter(Boolean).length + 2;
  return rows.reduce(
    (sum, line) =>
      sum +
      (JSON.parse(line) as { messages: { content: string }[] }).messages.reduce(
        (n, m) => n + messageTokens(m),
        0,
      ),
    0,
  );
}
