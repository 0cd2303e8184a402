// The follow-up commands as a user runs them: mlxq eval, samples, fuse, export, artifacts and download.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { mlxq } from '../helpers/cli.js';
import { evalDataTokens, QWEN_4BIT, sftRequest, trainedRun, waitRunFinal } from '../helpers/follow-up.js';
import { createTestEnv, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

let env: TestEnv;
let apiUrl: string;
let runId: string;
let tmp: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-cli-fu-'));
  env = await createTestEnv();
  apiUrl = await env.app.listen({ port: 0, host: '127.0.0.1' });
  await env.startWorker();
  runId = (await trainedRun(env)).id as string;
}, 120_000);
afterAll(async () => {
  await env.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const cli = (args: string[]) => mlxq(args, { apiUrl, cwd: tmp, timeoutMs: 110_000 });

describe('mlxq follow-up commands', { timeout: 120_000 }, () => {
  it('eval prints test loss and perplexity (exit 0)', async () => {
    const r = await cli(['eval', runId]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^test_loss \\d+\\.\\d+ {2}test_ppl \\d+\\.\\d+ {2}batches 4 {2}tokens ${evalDataTokens()} {2}\\(mlx_lm lora --test\\)$`,
        'm',
      ),
    );
    expect(r.stderr).toMatch(/evaluate job_\S+: succeeded/);
  });

  it('samples prints base and adapter answers side by side, and they differ', async () => {
    const r = await cli(['samples', runId, '--prompt', 'Hello there', '--max-tokens', '16']);
    expect(r.exitCode, r.stderr).toBe(0);
    const base = /^ {2}base .*?: (.*)$/m.exec(r.stdout)?.[1];
    const adapter = /^ {2}adapter .*?: (.*)$/m.exec(r.stdout)?.[1];
    expect(r.stdout).toContain('#1 Hello there');
    expect(base).toBeTruthy();
    expect(adapter).not.toBe(base);
  });

  it('fuse verifies the fused model; --dequantize false loses the adapter and exits 1 with the message', async () => {
    const ok = await cli(['fuse', runId, '--verify-prompt', 'Hello there']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('verified: true (dequantized)');
    const lost = await cli(['fuse', runId, '--dequantize', 'false', '--verify-prompt', 'Hello there']);
    expect(lost.exitCode).toBe(1);
    expect(lost.stderr).toContain('the fused model does not reproduce the adapter: prompt #1 "Hello there"');
  });

  it('export gguf yields a .gguf artifact that downloads with the recorded sha256', async () => {
    const r = await cli(['export', runId, '--format', 'gguf']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^gguf: .*\.gguf$/m);
    const list = await cli(['artifacts', runId, '--json']);
    const gguf = (
      JSON.parse(list.stdout) as { items: { id: string; kind: string; sha256: string; name: string }[] }
    ).items.find((a) => a.kind === 'gguf')!;
    expect(gguf.name).toBe('ggml-model-f16.gguf');
    const table = await cli(['artifacts', runId]);
    expect(table.stdout).toMatch(new RegExp(`^${gguf.id} +gguf +ggml-model-f16\\.gguf +\\d+ +true`, 'm'));
    const dl = await cli(['download', gguf.id]);
    expect(dl.exitCode, dl.stderr).toBe(0);
    expect(dl.stdout).toContain('(matches the recorded one)');
    const file = path.join(tmp, 'ggml-model-f16.gguf');
    expect(createHash('sha256').update(fs.readFileSync(file)).digest('hex')).toBe(gguf.sha256);
  });

  it('mlxq sweep with after and best_after: every member is evaluated, only the best run is fused', async () => {
    const file = path.join(tmp, 'sweep.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        name: 'lr',
        base: sftRequest(),
        grid: { learning_rate: [1e-5, 5e-4] },
        metric: { name: 'loss', goal: 'min' },
        after: [{ kind: 'evaluate' }],
        best_after: [{ kind: 'fuse', verify: { prompts: ['Hello there'], max_tokens: 16 } }],
      }),
    );
    const r = await cli(['sweep', file, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const sweepId = (JSON.parse(r.stdout) as { id: string }).id;
    const members = (await env.app.inject({ method: 'GET', url: `/v1/sweeps/${sweepId}` })).json<{
      runs: { runId: string }[];
    }>().runs;
    for (const m of members) expect((await waitRunFinal(env, m.runId)).status).toBe('succeeded');
    const best = (await env.app.inject({ method: 'GET', url: `/v1/sweeps/${sweepId}` })).json<{
      best: { runId: string };
    }>().best;
    const kinds = await waitFor(
      async () => {
        const lists = await Promise.all(
          members.map(async (m) =>
            (await env.app.inject({ method: 'GET', url: `/v1/runs/${m.runId}/jobs` }))
              .json<{ items: { kind: string }[] }>()
              .items.map((j) => j.kind)
              .sort(),
          ),
        );
        return lists.flat().length === 3 ? lists : null;
      },
      { timeoutMs: 20_000, what: '2 evaluate jobs and 1 fuse' },
    );
    members.forEach((m, i) =>
      expect(kinds[i]).toEqual(m.runId === best.runId ? ['evaluate', 'fuse'] : ['evaluate']),
    );
  });

  it('export gguf of a qwen2 run exits 2 naming qwen2 and the supported types', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: {
        method: 'sft',
        model: QWEN_4BIT,
        data: path.join(path.dirname(QWEN_4BIT), '..', 'sft-eval'),
        iters: 2,
        batch_size: 2,
      },
    });
    expect((await waitRunFinal(env, res.json<{ id: string }>().id)).status).toBe('succeeded');
    const r = await cli(['export', res.json<{ id: string }>().id, '--format', 'gguf']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      'format: gguf export does not support model type qwen2; supported: llama, mistral, mixtral',
    );
  });
});
