import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { TEST_DATA } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';

const env = useTestEnv();

function parseEvents(text: string) {
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      return { event, data: data ? JSON.parse(data) : null };
    });
}

describe('GET /v1/runs/:id/logs?follow=true', () => {
  it('streams lines and status as server-sent events until the run ends', async () => {
    await env.startWorker({ trainerEnv: { MLX_STANDIN_STEP_SECONDS: '0.05' } });
    const sub = await env.app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: {
        method: 'sft',
        model: 'mlx-community/x',
        data: path.join(TEST_DATA, 'sft-completions'),
        iters: 10,
        batch_size: 2,
        steps_per_report: 2,
      },
    });
    expect(sub.statusCode, sub.body).toBe(201);
    const address = await env.app.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${address}/v1/runs/${sub.json().id}/logs?follow=true`);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = parseEvents(await res.text());
    const lines = events.filter((e) => e.event === 'line').map((e) => e.data.text as string);
    expect(lines.some((l) => /^Iter 2: loss/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('Saved final weights'))).toBe(true);
    const seqs = events.filter((e) => e.event === 'line').map((e) => e.data.seq as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(events.filter((e) => e.event === 'status').map((e) => e.data.status)).toContain('running');
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { status: 'succeeded' } });
  });
});
