// Dataset routes: validate a dataset for a method without submitting a run.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { DatasetReport, InvalidDatasetReport } from '../../contract/datasets.js';
import { DatasetValidationError } from '../../domain/errors.js';
import { METHOD_INFO, METHODS } from '../../domain/methods.js';
import { assertDatasetAllowed } from '../../inputs/path-policy.js';
import type { AppDeps } from '../app.js';

export const datasetRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/datasets/validate',
    {
      schema: {
        body: z.strictObject({
          data: z
            .string()
            .min(1)
            .max(4096)
            .refine((s) => !s.startsWith('-'), 'must not begin with "-"'),
          method: z.enum(METHODS),
          batch_size: z.number().int().min(1).default(4),
          test: z.boolean().default(false),
        }),
        response: { 200: DatasetReport, 422: InvalidDatasetReport },
      },
    },
    async (req, reply) => {
      const dir = await deps.inputs.resolveData(req.body.data);
      if (deps.inputs.assertAllowedPath) await assertDatasetAllowed(deps.inputs.assertAllowedPath, dir);
      const report = await deps.inputs.validator.validate({
        dir,
        mode: METHOD_INFO[req.body.method].trainMode,
        batchSize: req.body.batch_size,
        needTest: req.body.test,
      });
      if (report.ok) return reply.send(report);
      // Every 4xx carries {error, message}; the report's own fields stay where clients read them.
      const { code, message } = new DatasetValidationError(report.problems, report);
      return reply.status(422).send({ error: code, message, ...report });
    },
  );
};
