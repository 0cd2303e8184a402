// Sweep routes: submit (all runs or none), list, detail (JSON or CSV table), cancel.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { cancelSweep } from '../../app/cancel-sweep.js';
import { submitSweep } from '../../app/submit-sweep.js';
import { sweepDetail, sweepSummary } from '../../app/sweep-results.js';
import { IdParams } from '../../contract/common.js';
import { SubmittedSweep, SweepCancel, SweepDetail, SweepList } from '../../contract/sweeps.js';
import { getSweep, listSweeps } from '../../db/sweeps-repository.js';
import { NotFoundError } from '../../domain/errors.js';
import { SWEEP_STATUSES } from '../../domain/run.js';
import type { AppDeps } from '../app.js';
import { sweepCsv } from '../sweep-csv.js';

function loadSweep(deps: AppDeps, id: string) {
  const sweep = getSweep(deps.db, id);
  if (!sweep) throw new NotFoundError('Sweep', id);
  return sweep;
}

export const sweepRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/sweeps',
    {
      schema: { body: z.unknown(), response: { 201: SubmittedSweep } },
      config: { rateLimit: { max: deps.config.submitRatePerMin, timeWindow: '1 minute' } },
    },
    async (req, reply) => {
      const { sweep, warnings } = await submitSweep(req.body, deps);
      return reply.status(201).send({ ...sweepDetail(deps.db, sweep), warnings });
    },
  );

  app.get(
    '/v1/sweeps',
    {
      schema: {
        querystring: z.object({
          status: z.enum(SWEEP_STATUSES).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(20),
          cursor: z.string().max(200).optional(),
        }),
        response: { 200: SweepList },
      },
    },
    async (req) => {
      const page = listSweeps(deps.db, {
        status: req.query.status,
        limit: req.query.limit,
        cursor: req.query.cursor,
      });
      return { items: page.items.map((s) => sweepSummary(deps.db, s)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/sweeps/:id',
    {
      schema: {
        params: IdParams,
        querystring: z.object({ format: z.enum(['json', 'csv']).default('json') }),
        response: {
          200: {
            description: 'The sweep; with format=csv, its table as CSV',
            content: { 'application/json': { schema: SweepDetail }, 'text/csv': { schema: z.string() } },
          },
        },
      },
    },
    async (req, reply) => {
      const detail = sweepDetail(deps.db, loadSweep(deps, req.params.id));
      if (req.query.format === 'json') return detail;
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${detail.id}.csv"`)
        .send(sweepCsv(detail));
    },
  );

  app.post(
    '/v1/sweeps/:id/cancel',
    { schema: { params: IdParams, response: { 200: SweepCancel } } },
    async (req) => {
      const result = await cancelSweep(deps, req.params.id, req.log);
      return {
        cancelled: result.cancelled,
        cancelling: result.cancelling,
        alreadyFinal: result.alreadyFinal,
        errors: result.errors,
        sweep: sweepSummary(deps.db, result.sweep),
      };
    },
  );
};
