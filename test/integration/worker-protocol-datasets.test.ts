// Datasets by hash over the worker protocol: a worker reads an uploaded dataset's manifest, then each file.
import { describe, expect, it } from 'vitest';

import { multipart } from '../helpers/multipart.js';
import { useWorkerProtocolEnv } from '../helpers/worker-protocol-env.js';

const { env, tokens, call } = useWorkerProtocolEnv();

describe('datasets by hash', () => {
  it('a worker reads an uploaded dataset: its files and sizes, then each file', async () => {
    const train = '{"text": "a"}\n{"text": "b"}\n';
    const up = await env.app.inject({
      method: 'POST',
      url: '/v1/datasets',
      ...multipart([{ name: 'train', filename: 'train.jsonl', content: train }]),
    });
    expect(up.statusCode, up.body).toBe(201);
    const sha = up.json<{ sha256: string }>().sha256;
    expect((await call(tokens.macA, 'GET', `/v1/worker/datasets/${sha}`)).json()).toEqual({
      sha256: sha,
      files: [{ file: 'train.jsonl', bytes: train.length }],
    });
    expect((await call(tokens.macA, 'GET', `/v1/worker/datasets/${sha}/train.jsonl`)).body).toBe(train);
    expect((await call(tokens.macA, 'GET', `/v1/worker/datasets/${sha}/valid.jsonl`)).statusCode).toBe(404);
    expect(
      (await env.app.inject({ method: 'GET', url: `/v1/worker/datasets/${sha}/train.jsonl` })).statusCode,
    ).toBe(401);
  });
});
