// Worker credentials over HTTP: the token is shown once and stored as a hash, revocation gives 401, worker and
// user tokens never reach each other's routes, and worker routes are rate-limited per worker.
import { describe, expect, it } from 'vitest';

import { hashWorkerToken } from '../../src/api/worker-tokens.js';
import { issuePaths } from '../helpers/issue-paths.js';
import { createTestEnv } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';

const TOKEN = 'correct-horse-battery-staple';
const user = { authorization: `Bearer ${TOKEN}` };
const env = useTestEnv({ API_TOKEN: TOKEN, WORKER_RATE_PER_MIN: '20' }, { perFile: true });

async function createWorker(name: string, labels?: string[]) {
  const res = await env.app.inject({
    method: 'POST',
    url: '/v1/workers',
    headers: user,
    payload: { name, labels },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<{ id: string; name: string; labels: string[]; token: string; revokedAt: string | null }>();
}

const me = (token: string) =>
  env.app.inject({ method: 'GET', url: '/v1/worker/me', headers: { authorization: `Bearer ${token}` } });

describe('POST /v1/workers', () => {
  it('returns the token once; SQLite holds only its SHA-256', async () => {
    const w = await createWorker('studio-1', ['gpu:m2-ultra', 'big', 'big']);
    expect(w).toMatchObject({ name: 'studio-1', labels: ['gpu:m2-ultra', 'big'], revokedAt: null });
    expect(w.token).toMatch(/^mlxqw\.wkr_[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    const rows = env.db.$client.prepare('SELECT * FROM worker_credentials WHERE id = ?').all(w.id);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(w.token.split('.')[2]);
    expect(rows).toEqual([expect.objectContaining({ token_hash: hashWorkerToken(w.token) })]);
    const again = await me(w.token);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({ id: w.id, name: 'studio-1', labels: ['gpu:m2-ultra', 'big'] });
    expect(again.json()).not.toHaveProperty('token');
  });

  it('refuses a bad name or label with a 400 naming the field, and a name in use with a 409', async () => {
    const bad = await env.app.inject({
      method: 'POST',
      url: '/v1/workers',
      headers: user,
      payload: { name: '-x', labels: ['UP'] },
    });
    expect(bad.statusCode).toBe(400);
    expect(issuePaths(bad)).toEqual(['body.labels.0', 'body.name']);
    await createWorker('mbp-1');
    const dup = await env.app.inject({
      method: 'POST',
      url: '/v1/workers',
      headers: user,
      payload: { name: 'mbp-1' },
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().message).toContain('mbp-1');
  });

  it('needs the user token: a worker token cannot mint more workers', async () => {
    const w = await createWorker('mbp-2');
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/workers',
      headers: { authorization: `Bearer ${w.token}` },
      payload: { name: 'evil' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().message).toContain('only the worker routes');
  });
});

describe('worker routes', () => {
  it('refuse the user token, a missing token, a forged one and a tampered one', async () => {
    const w = await createWorker('mbp-3');
    const forged = w.token.slice(0, -4) + (w.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const headers of [
      user,
      {},
      { authorization: `Bearer ${forged}` },
      { authorization: 'Bearer mlxqw.wkr_000000000.x' },
    ]) {
      const res = await env.app.inject({ method: 'GET', url: '/v1/worker/me', headers });
      expect(res.statusCode, JSON.stringify(headers)).toBe(401);
      expect(res.json().error).toBe('unauthorized');
    }
    expect(
      (await env.app.inject({ method: 'GET', url: '/v1/worker/me', headers: user })).json().message,
    ).toContain('not the API token');
  });

  it('a worker token reaches no user route', async () => {
    const w = await createWorker('mbp-4');
    for (const url of ['/v1/runs', '/v1/workers', '/ui', '/admin/queues']) {
      const res = await env.app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${w.token}` },
      });
      expect(res.statusCode, url).toBe(401);
    }
  });

  it('DELETE /v1/workers/:id revokes: the next call gets 401 naming the revocation; other workers are unaffected', async () => {
    const a = await createWorker('mini-1');
    const b = await createWorker('mini-2');
    expect((await me(a.token)).statusCode).toBe(200);
    const del = await env.app.inject({ method: 'DELETE', url: `/v1/workers/${a.id}`, headers: user });
    expect(del.statusCode, del.body).toBe(200);
    expect(del.json().revokedAt).toEqual(expect.any(String));
    const after = await me(a.token);
    expect(after.statusCode).toBe(401);
    expect(after.json().message).toContain('revoked');
    expect((await me(b.token)).statusCode).toBe(200);
    // The name is free again for a new credential (a rotated token).
    await createWorker('mini-1');
    const unknown = await env.app.inject({ method: 'DELETE', url: '/v1/workers/wkr_nope', headers: user });
    expect(unknown.statusCode).toBe(404);
  });

  it('are rate-limited per worker (429 past WORKER_RATE_PER_MIN), not per address', async () => {
    const a = await createWorker('rl-1');
    const b = await createWorker('rl-2');
    const codes: number[] = [];
    for (let i = 0; i < 21; i++) codes.push((await me(a.token)).statusCode);
    expect(codes.slice(0, 20).every((c) => c === 200)).toBe(true);
    expect(codes[20]).toBe(429);
    expect((await me(b.token)).statusCode).toBe(200);
  });
});

describe('without API_TOKEN', () => {
  it('worker routes still need a worker token, and a worker token still reaches no user route', async () => {
    const open = await createTestEnv();
    try {
      const created = await open.app.inject({ method: 'POST', url: '/v1/workers', payload: { name: 'w' } });
      expect(created.statusCode).toBe(201);
      const token = created.json<{ token: string }>().token;
      expect((await open.app.inject({ method: 'GET', url: '/v1/worker/me' })).statusCode).toBe(401);
      expect(
        (
          await open.app.inject({
            method: 'GET',
            url: '/v1/worker/me',
            headers: { authorization: `Bearer ${token}` },
          })
        ).statusCode,
      ).toBe(200);
      expect(
        (
          await open.app.inject({
            method: 'GET',
            url: '/v1/runs',
            headers: { authorization: `Bearer ${token}` },
          })
        ).statusCode,
      ).toBe(401);
      expect((await open.app.inject({ method: 'GET', url: '/v1/runs' })).statusCode).toBe(200);
    } finally {
      await open.cleanup();
    }
  });
});
