// Limits: body size (413), a rate limit on submissions and logins (429), a cap on queued runs (429), and the
// warning when the API listens beyond loopback without a token.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';

import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { exposureWarning } from '../../src/api/auth.js';
import { startApi } from '../../src/api/start-api.js';
import { loadConfig } from '../../src/shared/config.js';
import { createTestEnv, redisUrl, TEST_DATA, type TestEnv } from '../helpers/test-env.js';

const run = (extra: Record<string, unknown> = {}) => ({
  method: 'sft',
  model: 'mlx-community/Qwen2.5-0.5B-Instruct-4bit',
  data: path.join(TEST_DATA, 'sft-chat'),
  iters: 2,
  batch_size: 1,
  ...extra,
});

describe('body size', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv({ BODY_LIMIT_BYTES: '4096' });
  });
  afterAll(async () => {
    await env.cleanup();
  });

  it.each([
    ['POST /v1/runs (JSON)', '/v1/runs', 'application/json', JSON.stringify(run({ name: 'x'.repeat(5000) }))],
    ['POST /v1/runs (YAML)', '/v1/runs', 'application/yaml', `method: sft\nname: ${'x'.repeat(5000)}\n`],
    [
      'POST /v1/datasets/validate',
      '/v1/datasets/validate',
      'application/json',
      JSON.stringify({ data: 'x'.repeat(5000), method: 'sft' }),
    ],
  ])('%s over BODY_LIMIT_BYTES is 413 payload_too_large', async (_what, url, type, payload) => {
    const res = await env.app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload });
    expect(res.statusCode, res.body).toBe(413);
    expect(res.json()).toMatchObject({ error: 'payload_too_large', message: expect.any(String) });
  });

  it('a body just under the limit is read and judged on its content', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/runs?dryRun=true',
      payload: run({ name: 'x'.repeat(100) }),
    });
    expect(res.statusCode, res.body).toBe(200);
  });
});

describe('rate limits', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv({ SUBMIT_RATE_PER_MIN: '3', API_TOKEN: 'rate-limit-token' });
  });
  afterAll(async () => {
    await env.cleanup();
  });
  const auth = { authorization: 'Bearer rate-limit-token' };

  it('submissions past SUBMIT_RATE_PER_MIN in a minute are 429 rate_limited; reads are not limited', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await env.app.inject({
        method: 'POST',
        url: '/v1/runs?dryRun=true',
        payload: run(),
        headers: auth,
      });
      statuses.push(res.statusCode);
      expect(res.headers['x-ratelimit-limit']).toBe('3');
    }
    expect(statuses).toEqual([200, 200, 200]);
    const limited = await env.app.inject({ method: 'POST', url: '/v1/runs', payload: run(), headers: auth });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toEqual({
      error: 'rate_limited',
      message: expect.stringMatching(/Rate limit exceeded/),
    });
    expect(limited.headers['retry-after']).toBeDefined();
    for (let i = 0; i < 10; i++)
      expect((await env.app.inject({ url: '/v1/runs', headers: auth })).statusCode).toBe(200);
  });

  it('login attempts are limited too (guessing the token through the form)', async () => {
    const statuses = new Set<number>();
    for (let i = 0; i < 31; i++) {
      statuses.add(
        (await env.app.inject({ method: 'POST', url: '/login', payload: { token: `guess-${i}` } }))
          .statusCode,
      );
    }
    expect([...statuses].sort()).toEqual([401, 429]);
    const right = await env.app.inject({
      method: 'POST',
      url: '/login',
      payload: { token: 'rate-limit-token' },
    });
    expect(right.statusCode).toBe(429);
  });
});

describe('queued-run cap', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv({ MAX_QUEUED_RUNS: '2' });
  });
  afterAll(async () => {
    await env.cleanup();
  });

  it('past MAX_QUEUED_RUNS queued runs, a submission is 429 limit_exceeded and nothing is queued', async () => {
    for (let i = 0; i < 2; i++) {
      expect((await env.app.inject({ method: 'POST', url: '/v1/runs', payload: run() })).statusCode).toBe(
        201,
      );
    }
    const res = await env.app.inject({ method: 'POST', url: '/v1/runs', payload: run() });
    expect(res.statusCode).toBe(429);
    expect(res.json()).toMatchObject({
      error: 'limit_exceeded',
      message: expect.stringContaining('MAX_QUEUED_RUNS'),
    });
    expect(await env.queue.count()).toBe(2);
  });
});

describe('listening beyond loopback', () => {
  it('the default bind is 127.0.0.1', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
  });

  it('a non-loopback host without API_TOKEN gets a warning; loopback hosts or a token do not', () => {
    for (const host of ['0.0.0.0', '::', '192.168.1.20', 'mac.local']) {
      expect(exposureWarning({ host, apiToken: undefined }), host).toMatch(/without API_TOKEN/);
      expect(exposureWarning({ host, apiToken: 'a-long-enough-token' }), host).toBeNull();
    }
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
      expect(exposureWarning({ host, apiToken: undefined }), host).toBeNull();
    }
  });

  it('startApi on 127.0.0.1 serves without the exposure warning (tests never bind beyond loopback)', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-bind-'));
    const lines: string[] = [];
    const sink = new Writable({
      write: (c: Buffer, _e, cb) => {
        lines.push(c.toString());
        cb();
      },
    });
    const config = loadConfig({
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      QUEUE_PREFIX: `mlxq-bind-${process.pid}`,
      CAFFEINATE: 'false',
    });
    const api = await startApi(config, redisUrl(), pino({ level: 'warn' }, sink));
    try {
      expect((await api.app.inject({ url: '/healthz' })).statusCode).toBe(200);
      expect(lines.join('')).not.toContain('without API_TOKEN');
    } finally {
      await api.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
