// Worker routes: the live workers from the registry (name, host, versions, memory, state, last seen).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

import type { AppDeps } from '../app.js';
import { WorkersView } from '../../contract/health.js';
import { readWorkers, workersView } from '../worker-status.js';

export const workerRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.get('/v1/workers', { schema: { response: { 200: WorkersView } } }, async () => workersView(await readWorkers(deps.redis, deps.config.queuePrefix)));
};
