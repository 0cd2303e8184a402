// The login form for the pages: POST /login trades the API token for an HttpOnly, SameSite=Strict session cookie.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { NoContent } from '../../contract/common.js';
import { UnauthorizedError } from '../../domain/errors.js';
import type { AppDeps } from '../app.js';
import { createTokenMatcher, isCrossOrigin, LOGIN_PATH, safeNext, SESSION_COOKIE } from '../auth.js';

const SESSION_MAX_AGE_S = 7 * 24 * 3600;
const FORM = 'application/x-www-form-urlencoded';

const LOGIN_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(next: string, failed: boolean): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · mlx-train-queue</title>
<style>body{font:16px system-ui,sans-serif;max-width:24rem;margin:15vh auto;padding:0 1rem}
input,button{font:inherit;padding:.5rem;width:100%;box-sizing:border-box;margin:.25rem 0}
.error{color:#b00020}</style></head>
<body><h1>mlx-train-queue</h1>
<form method="post" action="${LOGIN_PATH}">
<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="${escapeHtml(next)}">
${failed ? '<p class="error" role="alert">That token is not valid.</p>' : ''}
<button type="submit">Log in</button>
</form></body></html>`;
}

function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .status(status)
    .header('content-security-policy', LOGIN_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(html);
}

function isForm(req: FastifyRequest): boolean {
  return (req.headers['content-type'] ?? '').toLowerCase().startsWith(FORM);
}

export const loginRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  const token = deps.config.apiToken;
  const matcher = token ? createTokenMatcher(token) : undefined;
  // HTML forms post urlencoded bodies; parsed here only, for these routes.
  app.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get(
    LOGIN_PATH,
    { schema: { hide: true, querystring: z.object({ next: z.string().max(2048).optional() }) } },
    async (req, reply) => {
      const next = safeNext(req.query.next);
      if (!matcher) return reply.redirect(next, 303);
      return sendPage(reply, 200, loginPage(next, false));
    },
  );

  app.post(
    LOGIN_PATH,
    {
      schema: {
        summary: 'Log in to the pages: sets an HttpOnly, SameSite=Strict session cookie',
        body: z.object({ token: z.string().min(1).max(4096), next: z.string().max(2048).optional() }),
        response: { 204: NoContent },
      },
      config: { rateLimit: { max: 30, timeWindow: '1 minute' } },
    },
    async (req, reply) => {
      const next = safeNext(req.body.next);
      if (!matcher) return isForm(req) ? reply.redirect(next, 303) : reply.status(204).send(null);
      if (isCrossOrigin(req)) throw new UnauthorizedError('Cross-origin login refused');
      if (!matcher.matchesToken(req.body.token)) {
        if (isForm(req)) return sendPage(reply, 401, loginPage(next, true));
        throw new UnauthorizedError('Invalid token');
      }
      reply.setCookie(SESSION_COOKIE, matcher.sessionValue, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure: req.protocol === 'https',
        maxAge: SESSION_MAX_AGE_S,
      });
      return isForm(req) ? reply.redirect(next, 303) : reply.status(204).send(null);
    },
  );

  app.post(
    '/logout',
    { schema: { summary: 'Forget the session cookie', response: { 204: NoContent } } },
    async (req, reply) => {
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return isForm(req) ? reply.redirect(LOGIN_PATH, 303) : reply.status(204).send(null);
    },
  );
};
