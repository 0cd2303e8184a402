// Route options every worker route shares: only worker tokens reach it, and each worker is rate-limited on its own.
import type { FastifyContextConfig, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { z } from 'zod';

import { IdParams } from '../contract/common.js';
import type { Config } from '../shared/config.js';

export function workerRouteConfig(config: Pick<Config, 'workerRatePerMin'>): FastifyContextConfig {
  return {
    workerRoute: true,
    rateLimit: {
      max: config.workerRatePerMin,
      timeWindow: '1 minute',
      // The auth hook runs first and sets req.worker; a worker's budget does not depend on its address.
      keyGenerator: (req: FastifyRequest) => req.worker?.id ?? req.ip,
    },
  };
}

/** Log chunks and report batches may be several MiB after an outage; the worker splits larger ones. */
export const WORKER_REPORT_BODY_LIMIT = 32 * 1024 * 1024;

/** The name of the worker whose token the auth hook accepted (a worker route is reached by no other token). */
export function workerName(req: FastifyRequest): string {
  return req.worker!.name;
}

type WorkerApp = Parameters<FastifyPluginAsyncZod>[0];

/**
 * `POST /v1/worker/<things>/:id/<what>` for one plugin's worker routes: the route options they share
 * (`workerRouteConfig`: worker tokens only, rate limit per worker; `bulk`: bodies up to WORKER_REPORT_BODY_LIMIT), the id parameter, the body and its
 * 2xx answer. The handler gets the worker's name, the id and the checked body.
 */
export function workerPoster(app: WorkerApp, routeConfig: FastifyContextConfig) {
  return <B extends z.ZodType, A extends z.ZodType>(
    url: string,
    spec: { body: B; answer: A; bulk?: boolean },
    handler: (worker: string, id: string, body: z.output<B>) => z.input<A> | Promise<z.input<A>>,
  ): void => {
    const route = async (req: FastifyRequest<{ Params: { id: string }; Body: z.output<B> }>) =>
      handler(workerName(req), req.params.id, req.body as z.output<B>);
    app.post(
      url,
      {
        config: routeConfig,
        ...(spec.bulk ? { bodyLimit: WORKER_REPORT_BODY_LIMIT } : {}),
        schema: { params: IdParams, body: spec.body, response: { 200: spec.answer } },
      },
      // Typed against B and A above; Fastify cannot resolve a generic schema's request and reply types.
      route as never,
    );
  };
}
