import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';

import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';

import { closeDb, openDb } from '../../src/db/client.js';
import { startNotifications } from '../../src/notify/notifications.js';
import type { Dispatcher } from '../../src/notify/webhook-dispatcher.js';
import { sftRun, submit, waitStatus } from '../helpers/chaos.js';
import { sftRequest } from '../helpers/follow-up.js';
import { issuePaths } from '../helpers/issue-paths.js';
import { createTestEnv, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
  answered: number | null;
}

/** A receiver on a free loopback port that answers with `statuses` in turn (the last one repeats); null: never answers. */
async function receiver(statuses: (number | null)[]) {
  const got: Received[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = statuses[Math.min(got.length, statuses.length - 1)] ?? null;
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), answered: status });
      if (status !== null) res.writeHead(status).end();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    got,
    statuses,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

let env: TestEnv | undefined;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await env?.cleanup();
  env = undefined;
});

const quiet = pino({ level: 'silent' });

function notifications(e: TestEnv, db = e.db): Dispatcher {
  const d = startNotifications(db, e.config, quiet);
  cleanups.push(() => d.close());
  return d;
}

async function addWebhook(e: TestEnv, body: Record<string, unknown>) {
  const res = await e.app.inject({ method: 'POST', url: '/v1/webhooks', payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string; hasSecret: boolean }>();
}

async function deliveries(e: TestEnv, id: string) {
  return (await e.app.inject({ method: 'GET', url: `/v1/webhooks/${id}/deliveries` })).json().items as {
    id: string;
    event: string;
    status: string;
    attempts: number;
    log: { statusCode: number | null }[];
  }[];
}

describe('webhooks', () => {
  it('a receiver answering 500, 500, then 200 gets exactly one accepted delivery, signed over the raw body, with the run summary and link', async () => {
    const rx = await receiver([500, 500, 200]);
    cleanups.push(() => rx.close());
    env = await createTestEnv({ WEBHOOK_RETRY_BASE_S: '0.05', PUBLIC_URL: 'http://mac.local:8080' });
    const hook = await addWebhook(env, { url: rx.url, secret: 's3cret-value', events: ['run.succeeded'] });
    expect(hook.hasSecret).toBe(true);
    expect(
      JSON.stringify((await env.app.inject({ method: 'GET', url: '/v1/webhooks' })).json()),
    ).not.toContain('s3cret-value');
    notifications(env);
    await env.startWorker();
    const run = await submit(env.app, sftRun(4, 2));
    await waitStatus(env.app, run.id, ['succeeded', 'failed', 'cancelled']);
    await waitFor(async () => ((await deliveries(env!, hook.id))[0]?.status === 'delivered' ? true : null), {
      timeoutMs: 20_000,
      what: 'the delivery',
    });

    expect(rx.got.map((g) => g.answered)).toEqual([500, 500, 200]);
    const accepted = rx.got.filter((g) => g.answered === 200);
    expect(accepted).toHaveLength(1);
    const [ok] = accepted;
    const expected = `sha256=${createHmac('sha256', 's3cret-value').update(ok!.body).digest('hex')}`;
    expect(ok!.headers['x-mlxq-signature']).toBe(expected);
    expect(ok!.headers['x-mlxq-event']).toBe('run.succeeded');
    // Retries resend the same delivery: same id, same bytes.
    expect(new Set(rx.got.map((g) => g.headers['x-mlxq-delivery'])).size).toBe(1);
    expect(new Set(rx.got.map((g) => g.body)).size).toBe(1);
    const body = JSON.parse(ok!.body);
    expect(body).toMatchObject({
      event: 'run.succeeded',
      delivery: ok!.headers['x-mlxq-delivery'],
      run: { id: run.id, status: 'succeeded', method: 'sft' },
      link: `http://mac.local:8080/ui/runs/${run.id}`,
    });

    const [d] = await deliveries(env, hook.id);
    expect(d).toMatchObject({ event: 'run.succeeded', status: 'delivered', attempts: 3 });
    expect(d!.log.map((a) => a.statusCode)).toEqual([500, 500, 200]);
  });

  it('a receiver that never answers does not delay the next run', async () => {
    const rx = await receiver([null]);
    cleanups.push(() => rx.close());
    env = await createTestEnv({ WEBHOOK_TIMEOUT_S: '60' });
    await addWebhook(env, { url: rx.url });
    notifications(env);
    await env.startWorker();
    const first = await submit(env.app, sftRun(2, 2));
    const second = await submit(env.app, sftRun(2, 2));
    await waitStatus(env.app, second.id, ['succeeded', 'failed', 'cancelled'], 60_000);
    await waitFor(async () => (rx.got.length >= 1 ? true : null), {
      timeoutMs: 10_000,
      what: 'the first notification to reach the receiver',
    });
    const a = (await env.app.inject({ method: 'GET', url: `/v1/runs/${first.id}` })).json();
    const b = (await env.app.inject({ method: 'GET', url: `/v1/runs/${second.id}` })).json();
    expect(a.status).toBe('succeeded');
    expect(b.status).toBe('succeeded');
    // The first run's notice hangs for up to 60 s; the next run started right after the first ended regardless.
    expect(Date.parse(b.startedAt) - Date.parse(a.finishedAt)).toBeLessThan(10_000);
    expect(rx.got.every((g) => g.answered === null)).toBe(true);
    await rx.close();
  });

  it('deliveries pending at a restart are sent after it', async () => {
    const rx = await receiver([503, 200]);
    cleanups.push(() => rx.close());
    env = await createTestEnv({ WEBHOOK_RETRY_BASE_S: '1' });
    const hook = await addWebhook(env, { url: rx.url, events: ['run.succeeded', 'run.failed'] });
    const before = notifications(env);
    await env.startWorker();
    const run = await submit(env.app, sftRun(2, 2));
    await waitStatus(env.app, run.id, ['succeeded', 'failed', 'cancelled']);
    await waitFor(async () => ((await deliveries(env!, hook.id))[0]?.attempts === 1 ? true : null), {
      timeoutMs: 20_000,
      what: 'the first attempt',
    });
    await before.close(); // the service stops with the delivery pending

    expect((await deliveries(env, hook.id))[0]).toMatchObject({ status: 'pending', attempts: 1 });
    // A new process: its own connection to the same SQLite file, nothing carried over in memory.
    const db = openDb(path.join(env.dataDir, 'mlxq.sqlite'));
    cleanups.push(async () => closeDb(db));
    notifications(env, db);
    await waitFor(async () => ((await deliveries(env!, hook.id))[0]?.status === 'delivered' ? true : null), {
      timeoutMs: 20_000,
      what: 'the delivery after the restart',
    });
    expect(rx.got.map((g) => g.answered)).toEqual([503, 200]);
  });

  it('sweep.done comes once with the sweep and its best run; job.succeeded and job.failed carry the job and its run', async () => {
    const rx = await receiver([200]);
    cleanups.push(() => rx.close());
    env = await createTestEnv({ WEBHOOK_RETRY_BASE_S: '0.05', PUBLIC_URL: 'http://mac.local:8080' });
    const hook = await addWebhook(env, {
      url: rx.url,
      secret: 'sweep-secret',
      events: ['sweep.done', 'job.succeeded', 'job.failed'],
    });
    notifications(env);
    await env.startWorker();
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/sweeps',
      payload: {
        name: 'lr',
        base: sftRequest(),
        grid: { learning_rate: [1e-5, 5e-4] },
        metric: { name: 'loss', goal: 'min' },
        after: [{ kind: 'evaluate' }],
        // Fusing the quantized base without dequantizing loses the adapter: its verification fails the job.
        best_after: [
          { kind: 'fuse', dequantize: false, verify: { prompts: ['Hello there'], max_tokens: 16 } },
        ],
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const sweepId = res.json().id as string;
    const byEvent = () => {
      const out: Record<string, Record<string, any>[]> = {}; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON bodies
      for (const g of rx.got) (out[g.headers['x-mlxq-event'] as string] ??= []).push(JSON.parse(g.body));
      return out;
    };
    const got = await waitFor(
      async () => {
        const e = byEvent();
        return e['sweep.done']?.length === 1 &&
          e['job.succeeded']?.length === 2 &&
          e['job.failed']?.length === 1
          ? e
          : null;
      },
      { timeoutMs: 150_000, what: 'sweep.done, 2 job.succeeded and 1 job.failed' },
    );
    const sweep = (await env.app.inject({ method: 'GET', url: `/v1/sweeps/${sweepId}` })).json();
    expect(sweep.status).toBe('done');
    const [done] = got['sweep.done']!;
    expect(done).toMatchObject({
      event: 'sweep.done',
      sweep: {
        id: sweepId,
        name: 'lr',
        status: 'done',
        counts: { succeeded: 2 },
        metric: { name: 'loss', goal: 'min' },
      },
      best: {
        runId: sweep.best.runId,
        values: { learning_rate: 5e-4 },
        run: { id: sweep.best.runId, status: 'succeeded' },
        link: `http://mac.local:8080/ui/runs/${sweep.best.runId}`,
      },
      link: `http://mac.local:8080/ui/sweeps/${sweepId}`,
    });
    const members = (sweep.runs as { runId: string }[]).map((r) => r.runId).sort();
    expect(got['job.succeeded']!.map((b) => [b.job.kind, b.job.status, b.run.id]).sort()).toEqual(
      members.map((id) => ['evaluate', 'succeeded', id]),
    );
    const [failed] = got['job.failed']!;
    expect(failed).toMatchObject({
      event: 'job.failed',
      job: { kind: 'fuse', status: 'failed' },
      run: { id: sweep.best.runId },
      link: `http://mac.local:8080/ui/runs/${sweep.best.runId}`,
    });
    expect(failed!.job.error).toContain('the fused model does not reproduce the adapter');
    // Every delivery is signed over its raw body; no run.* event went to a hook that did not ask for it.
    for (const g of rx.got)
      expect(g.headers['x-mlxq-signature']).toBe(
        `sha256=${createHmac('sha256', 'sweep-secret').update(g.body).digest('hex')}`,
      );
    expect(Object.keys(byEvent()).sort()).toEqual(['job.failed', 'job.succeeded', 'sweep.done']);
    expect((await deliveries(env, hook.id)).filter((d) => d.event === 'sweep.done')).toHaveLength(1);
  }, 180_000);

  it('WEBHOOK_URL is an endpoint for every event; bad bodies name the field; unknown ids are 404', async () => {
    env = await createTestEnv({
      WEBHOOK_URL: 'http://127.0.0.1:9/hook',
      WEBHOOK_SECRET: 'from-the-environment',
    });
    notifications(env);
    const list = (await env.app.inject({ method: 'GET', url: '/v1/webhooks' })).json().items;
    expect(list).toEqual([
      expect.objectContaining({
        id: 'wh_env',
        url: 'http://127.0.0.1:9/hook',
        hasSecret: true,
        events: ['run.succeeded', 'run.failed', 'run.cancelled', 'sweep.done', 'job.succeeded', 'job.failed'],
      }),
    ]);
    const bad = await env.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      payload: { url: 'ftp://x/y', events: ['run.exploded'] },
    });
    expect(bad.statusCode).toBe(400);
    expect(issuePaths(bad)).toEqual(['body.events.0', 'body.url']);
    const created = await addWebhook(env, { url: 'https://example.test/x' });
    expect((await env.app.inject({ method: 'DELETE', url: `/v1/webhooks/${created.id}` })).statusCode).toBe(
      204,
    );
    expect((await env.app.inject({ method: 'DELETE', url: `/v1/webhooks/${created.id}` })).statusCode).toBe(
      404,
    );
    expect((await env.app.inject({ method: 'GET', url: '/v1/webhooks/wh_nope/deliveries' })).statusCode).toBe(
      404,
    );
  });
});
