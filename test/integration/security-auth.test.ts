// With API_TOKEN set, every route but health and the login needs the bearer token or the login cookie.
import { describe, expect, it } from 'vitest';

import { createTestEnv } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';

const TOKEN = 'correct-horse-battery-staple';
const env = useTestEnv({ API_TOKEN: TOKEN }, { perFile: true });

const bearer = { authorization: `Bearer ${TOKEN}` };

/** Requests that must be refused without credentials: API routes, pages, bull-board, docs, unknown paths. */
const PROTECTED: { method: 'GET' | 'POST' | 'DELETE'; url: string }[] = [
  { method: 'GET', url: '/v1/runs' },
  { method: 'POST', url: '/v1/runs' },
  { method: 'POST', url: '/v1/runs?dryRun=true' },
  { method: 'GET', url: '/v1/runs/run_x' },
  { method: 'GET', url: '/v1/runs/run_x/metrics' },
  { method: 'GET', url: '/v1/runs/run_x/logs' },
  { method: 'POST', url: '/v1/runs/run_x/cancel' },
  { method: 'GET', url: '/v1/methods' },
  { method: 'POST', url: '/v1/datasets/validate' },
  { method: 'POST', url: '/v1/datasets' },
  { method: 'GET', url: '/v1/datasets' },
  { method: 'DELETE', url: `/v1/datasets/${'a'.repeat(64)}` },
  { method: 'GET', url: '/v1/sweeps' },
  { method: 'GET', url: '/ui' },
  { method: 'GET', url: '/ui/runs/run_x' },
  { method: 'GET', url: '/ui/static/app.js' },
  { method: 'GET', url: '/admin/queues' },
  { method: 'GET', url: '/admin/queues/api/queues' },
  { method: 'GET', url: '/docs/json' },
  { method: 'GET', url: '/' },
  { method: 'GET', url: '/v1/no-such-route' },
  // The router decodes and normalises; auth is decided on the route it chose, so these stay closed.
  { method: 'GET', url: '/%76%31/runs' },
  { method: 'GET', url: '//v1/runs' },
  { method: 'GET', url: '/v1/runs/../runs' },
];

describe('without credentials', () => {
  it.each(PROTECTED)('$method $url answers 401 {error: unauthorized, message}', async ({ method, url }) => {
    const res = await env.app.inject({ method, url });
    expect(res.statusCode, res.body).toBe(401);
    expect(res.json()).toEqual({ error: 'unauthorized', message: expect.stringContaining('Bearer') });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('health and readiness stay open', async () => {
    expect((await env.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await env.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('a browser asking for a page is sent to the login form, which comes back to the page', async () => {
    const res = await env.app.inject({
      method: 'GET',
      url: '/ui/runs/run_1',
      headers: { accept: 'text/html,*/*' },
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/login?next=%2Fui%2Fruns%2Frun_1');
    const form = await env.app.inject({ method: 'GET', url: res.headers.location as string });
    expect(form.statusCode).toBe(200);
    expect(form.body).toContain('<form method="post" action="/login">');
    expect(form.body).toContain('value="/ui/runs/run_1"');
    expect(form.headers['content-security-policy']).toContain("default-src 'none'");
  });
});

describe('with the bearer token', () => {
  it.each([
    ['/v1/runs', 200],
    ['/v1/methods', 200],
    ['/v1/datasets', 200],
    ['/admin/queues/api/queues', 200],
    ['/docs/json', 200],
  ])('GET %s answers %i', async (url, status) => {
    const res = await env.app.inject({ method: 'GET', url, headers: bearer });
    expect(res.statusCode, res.body).toBe(status);
  });

  it('the scheme is case-insensitive; a wrong token, another scheme or a token with a suffix are refused', async () => {
    expect(
      (await env.app.inject({ url: '/v1/runs', headers: { authorization: `bearer ${TOKEN}` } })).statusCode,
    ).toBe(200);
    for (const authorization of [
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Basic ${TOKEN}`,
      TOKEN,
      'Bearer',
      `Bearer ${TOKEN} extra`,
    ]) {
      const res = await env.app.inject({ url: '/v1/runs', headers: { authorization } });
      expect(res.statusCode, authorization).toBe(401);
      expect(res.json().error).toBe('unauthorized');
    }
  });

  it('a wrong bearer header is refused even alongside a valid login cookie', async () => {
    const cookie = await login();
    const res = await env.app.inject({
      url: '/v1/runs',
      headers: { cookie, authorization: 'Bearer nope-nope-nope' },
    });
    expect(res.statusCode).toBe(401);
  });
});

async function login(): Promise<string> {
  const res = await env.app.inject({
    method: 'POST',
    url: '/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `token=${encodeURIComponent(TOKEN)}&next=${encodeURIComponent('/ui/submit')}`,
  });
  expect(res.statusCode, res.body).toBe(303);
  const setCookie = String(res.headers['set-cookie']);
  return setCookie.split(';')[0]!;
}

describe('the login form', () => {
  it('sets an HttpOnly SameSite=Strict cookie that is not the token, and returns to the page', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${encodeURIComponent(TOKEN)}&next=${encodeURIComponent('/ui/submit')}`,
    });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/ui/submit');
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^mlxq_session=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain(TOKEN);
  });

  it('the cookie opens the pages, bull-board and the JSON API the pages call', async () => {
    const cookie = await login();
    for (const url of [
      '/ui',
      '/ui/submit',
      '/admin/queues',
      '/admin/queues/api/queues',
      '/v1/runs',
      '/docs/json',
    ]) {
      const res = await env.app.inject({ url, headers: { cookie, accept: 'text/html' } });
      expect(res.statusCode, url).toBe(200);
    }
  });

  it('a forged or stale cookie is refused', async () => {
    for (const cookie of ['mlxq_session=forged', `mlxq_session=${TOKEN}`, 'mlxq_session=']) {
      const res = await env.app.inject({ url: '/v1/runs', headers: { cookie } });
      expect(res.statusCode, cookie).toBe(401);
    }
  });

  it('a cross-site POST carrying the cookie is refused (besides SameSite=Strict)', async () => {
    const cookie = await login();
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/runs/run_x/cancel',
      headers: { cookie, origin: 'https://evil.example', host: 'localhost:80' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().message).toMatch(/Cross-origin/);
  });

  it('a wrong token re-renders the form with 401 (form) or answers 401 JSON (API)', async () => {
    const form = await env.app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'token=wrong-token&next=%2Fui',
    });
    expect(form.statusCode).toBe(401);
    expect(form.body).toContain('That token is not valid');
    expect(form.headers['set-cookie']).toBeUndefined();
    const json = await env.app.inject({ method: 'POST', url: '/login', payload: { token: 'wrong-token' } });
    expect(json.statusCode).toBe(401);
    expect(json.json()).toEqual({ error: 'unauthorized', message: 'Invalid token' });
  });

  it('never redirects off the site after login', async () => {
    for (const next of [
      'https://evil.example/',
      '//evil.example/x',
      '/\\evil.example',
      'javascript:alert(1)',
    ]) {
      const res = await env.app.inject({
        method: 'POST',
        url: '/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `token=${encodeURIComponent(TOKEN)}&next=${encodeURIComponent(next)}`,
      });
      expect(res.headers.location, next).toBe('/ui');
    }
  });

  it('logout clears the cookie', async () => {
    const res = await env.app.inject({ method: 'POST', url: '/logout' });
    expect(res.statusCode).toBe(204);
    expect(String(res.headers['set-cookie'])).toMatch(
      /^mlxq_session=; Max-Age=0|^mlxq_session=;.*Expires=Thu, 01 Jan 1970/,
    );
  });
});

describe('without API_TOKEN', () => {
  it('the routes are open (the default bind is 127.0.0.1)', async () => {
    const open = await createTestEnv();
    try {
      expect(open.config.host).toBe('127.0.0.1');
      expect((await open.app.inject({ url: '/v1/runs' })).statusCode).toBe(200);
      expect((await open.app.inject({ url: '/login?next=/ui/submit' })).headers.location).toBe('/ui/submit');
    } finally {
      await open.cleanup();
    }
  });
});
