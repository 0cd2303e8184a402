// Run actions: cancel (200 when cancelled at once, 202 while the worker stops a running trainer, 409 when final).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

import { cancelRun } from '../../app/cancel-run.js';
import { IdParams } from '../../contract/common.js';
import { CancelledRun } from '../../contract/runs.js';
import type { AppDeps } from '../app.js';
import { runView } from '../run-view.js';

export const runActionRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/runs/:id/cancel',
    { schema: { params: IdParams, response: { 200: CancelledRun, 202: CancelledRun } } },
    async (req, reply) => {
      const { run, state } = await cancelRun(deps, req.params.id, req.log);
      const cancelRequestedAt = run.cancelRequestedAt ? new Date(run.cancelRequestedAt).toISOString() : null;
      return reply.status(state === 'cancelled' ? 200 : 202).send({ ...runView(run), cancelRequestedAt });
    },
  );
};
