// Authentication: worker routes take only a worker token; with API_TOKEN set, every other route but health and
// the login needs the bearer token or the login cookie, and never a worker token.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import type { Db } from '../db/client.js';
import type { WorkerCredential } from '../db/worker-credentials-repository.js';
import { UnauthorizedError } from '../domain/errors.js';
import type { Config } from '../shared/config.js';
import { checkWorkerToken, isWorkerTokenShaped } from './worker-tokens.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route of the reporting protocol: only a worker token reaches it (see worker-tokens.ts). */
    workerRoute?: boolean;
  }
  interface FastifyRequest {
    /** Set on worker routes: the worker whose token the request carries. */
    worker?: WorkerCredential;
  }
}

export const SESSION_COOKIE = 'mlxq_session';
export const LOGIN_PATH = '/login';

/**
 * Routes anyone may call. Matched against the route the router chose (req.routeOptions.url), not the raw URL,
 * so encodings, double slashes and unknown paths (404s) all fall on the closed side: deny by default.
 */
const OPEN_ROUTES: ReadonlySet<string> = new Set(['/healthz', '/readyz', LOGIN_PATH, '/logout']);

const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface TokenMatcher {
  /** The login cookie's value: derived from the token (an HMAC), never the token itself. */
  readonly sessionValue: string;
  matchesToken(given: string): boolean;
  matchesSession(given: string): boolean;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Constant-time comparisons: both sides are hashed first, so lengths never differ and nothing short-circuits. */
export function createTokenMatcher(token: string): TokenMatcher {
  const expectedToken = digest(token);
  const sessionValue = createHmac('sha256', token).update('mlxq-session-v1').digest('base64url');
  const expectedSession = digest(sessionValue);
  return {
    sessionValue,
    matchesToken: (given) => timingSafeEqual(digest(given), expectedToken),
    matchesSession: (given) => timingSafeEqual(digest(given), expectedSession),
  };
}

/** A browser request from another site: its Origin names a host other than the one it was sent to. */
export function isCrossOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true; // "null" or garbage: an opaque origin is never ours
  }
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** Why the request is refused, or null when it carries the token or a valid login cookie. */
function refusal(req: FastifyRequest, m: TokenMatcher): string | null {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = BEARER.exec(header);
    if (!match) return 'The Authorization header must be "Bearer <token>"';
    return m.matchesToken(match[1]!) ? null : 'Invalid bearer token';
  }
  const cookie = req.cookies[SESSION_COOKIE];
  if (cookie !== undefined) {
    if (!m.matchesSession(cookie))
      return `The login cookie is no longer valid; log in again at ${LOGIN_PATH}`;
    // SameSite=Strict already keeps the cookie off cross-site requests; this also covers older browsers.
    if (!SAFE_METHODS.has(req.method) && isCrossOrigin(req)) return 'Cross-origin request refused';
    return null;
  }
  return `Missing bearer token: send "Authorization: Bearer <token>", or log in at ${LOGIN_PATH}`;
}

/** A browser asking for a page (not the JSON API): it is sent to the login form instead of a 401. */
function wantsPage(req: FastifyRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (req.url.startsWith('/v1/') || req.url.includes('/api/')) return false;
  return (req.headers.accept ?? '').includes('text/html');
}

/** A same-site path to return to after the login; anything else (//host, /\host, absolute URLs) is dropped. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 2048) return '/ui';
  return /^\/(?![/\\])[^\s\\]*$/.test(next) ? next : '/ui';
}

export function loginUrl(next: string): string {
  return `${LOGIN_PATH}?next=${encodeURIComponent(safeNext(next))}`;
}

/** A worker route: the worker the bearer token names, or why not. The API token and the cookie never count. */
function workerRefusal(req: FastifyRequest, db: Db): string | null {
  const match = BEARER.exec(req.headers.authorization ?? '');
  if (!match) return 'Worker routes need "Authorization: Bearer <worker token>" (POST /v1/workers makes one)';
  if (!isWorkerTokenShaped(match[1]!)) return 'Worker routes take a worker token, not the API token';
  const check = checkWorkerToken(db, match[1]!);
  if (!check.ok) return check.reason;
  req.worker = check.worker;
  return null;
}

/** A user route called with a worker token: refused whether or not API_TOKEN is set (a worker token is no key). */
function carriesWorkerToken(req: FastifyRequest): boolean {
  const match = BEARER.exec(req.headers.authorization ?? '');
  return match !== null && isWorkerTokenShaped(match[1]!);
}

function unauthorized(reply: FastifyReply, why: string): FastifyReply {
  // Answered here rather than thrown: plugins such as bull-board install their own error handlers.
  const error = new UnauthorizedError(why);
  return reply
    .status(401)
    .header('www-authenticate', 'Bearer realm="mlx-train-queue"')
    .send({ error: error.code, message: error.message });
}

/**
 * Registers the cookie parser and an onRequest hook on the root instance. Call it before any route is registered
 * so that every route (including those other plugins add later) is covered.
 */
export async function installAuth(
  app: FastifyInstance,
  config: Pick<Config, 'apiToken'>,
  db: Db,
): Promise<void> {
  await app.register(fastifyCookie);
  const matcher = config.apiToken ? createTokenMatcher(config.apiToken) : null;
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.routeOptions.config.workerRoute === true) {
      const why = workerRefusal(req, db);
      return why === null ? undefined : unauthorized(reply, why);
    }
    if (OPEN_ROUTES.has(req.routeOptions.url ?? '')) return;
    if (carriesWorkerToken(req)) return unauthorized(reply, 'A worker token reaches only the worker routes');
    if (matcher === null) return;
    const why = refusal(req, matcher);
    if (why === null) return;
    if (wantsPage(req) && req.headers.authorization === undefined) {
      return reply.redirect(loginUrl(req.url), 303);
    }
    return unauthorized(reply, why);
  });
}

/** Loopback addresses: 127.0.0.0/8, ::1 (also IPv4-mapped) and localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127(\.\d{1,3}){3}$/.test(h);
}

/** The start-up warning for an API reachable from other machines without a token, or null. */
export function exposureWarning(config: Pick<Config, 'host' | 'apiToken'>): string | null {
  if (config.apiToken || isLoopbackHost(config.host)) return null;
  return `Listening on ${config.host} without API_TOKEN: anyone who reaches this port can run training (and the Python in reward_functions_file) on this machine`;
}
