import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { sftRun } from '../helpers/chaos.js';
import { useTestEnv } from '../helpers/use-test-env.js';

const env = useTestEnv();

const post = (key: string, body = sftRun(10)) =>
  env.app.inject({ method: 'POST', url: '/v1/runs', payload: body, headers: { 'idempotency-key': key } });

describe('Idempotency-Key on POST /v1/runs', () => {
  it('returns the same run for the same key (201, then 200) and queues one job', async () => {
    const first = await post('key-1');
    expect(first.statusCode, first.body).toBe(201);
    const again = await post('key-1');
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().id).toBe(first.json().id);
    const other = await post('key-2');
    expect(other.statusCode).toBe(201);
    expect(other.json().id).not.toBe(first.json().id);
    expect(await env.queue.getJobCounts('waiting', 'prioritized')).toMatchObject({ prioritized: 2 });
  });

  it('requests with the same key at the same time get one run: one 201, the others 200 with its id', async () => {
    const answers = await Promise.all(Array.from({ length: 6 }, () => post('same-time')));
    for (const a of answers) expect([200, 201], a.body).toContain(a.statusCode);
    expect(answers.filter((a) => a.statusCode === 201)).toHaveLength(1);
    expect(new Set(answers.map((a) => a.json().id)).size).toBe(1);
    const list = (await env.app.inject({ method: 'GET', url: '/v1/runs' })).json();
    expect(list.items).toHaveLength(1);
    expect(await env.queue.getJobCounts('waiting', 'prioritized')).toMatchObject({ prioritized: 1 });
    // Submitting writes no files: the worker makes the run folder when the run starts.
    expect(fs.existsSync(path.join(env.dataDir, 'runs'))).toBe(false);
  });
});
