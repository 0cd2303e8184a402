// Route options every worker route shares: only worker tokens reach it, and each worker is rate-limited on its own.
import type { FastifyContextConfig, FastifyRequest } from 'fastify';

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
