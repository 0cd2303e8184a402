// Liveness (the process answers) and readiness (Redis and SQLite answer), with the workers' states reported.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

import { readWorkers } from '../../app/worker-status.js';
import { Health, Readiness } from '../../contract/health.js';
import type { AppDeps } from '../app.js';
import { workersView } from '../worker-view.js';

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.get('/healthz', { schema: { response: { 200: Health } } }, async () => ({ status: 'ok' as const }));
  app.get('/readyz', { schema: { response: { 200: Readiness, 503: Readiness } } }, async (_req, reply) => {
    const checks: Record<string, { ok: boolean; error?: string }> = {};
    try {
      deps.db.$client.prepare('SELECT 1').get();
      checks.sqlite = { ok: true };
    } catch (e) {
      checks.sqlite = { ok: false, error: (e as Error).message };
    }
    try {
      if (deps.redis.status !== 'ready') {
        // The API's connection fails fast while Redis is down; give one that is connecting a moment.
        await withTimeout(new Promise((resolve) => deps.redis.once('ready', resolve)), 1000);
      }
      await withTimeout(deps.redis.ping(), 1000);
      checks.redis = { ok: true };
    } catch (e) {
      checks.redis = { ok: false, error: (e as Error).message };
    }
    const ok = Object.values(checks).every((c) => c.ok);
    // Reported, not required: the API is ready to accept runs while no worker is (they wait in the queue).
    const workers = checks.redis.ok
      ? await readWorkers(deps.redis, deps.config).then(workersView, (e: unknown) => ({
          error: (e as Error).message,
        }))
      : { error: 'Redis is unreachable' };
    return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'unavailable', checks, workers });
  });
};
