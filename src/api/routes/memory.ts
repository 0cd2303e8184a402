// Memory routes: the estimate's calibration against measured peaks.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

import { listMemoryMeasurements } from '../../db/memory-measurements.js';
import { calibrate } from '../../domain/memory-calibration.js';
import { EXPECTED_ERROR } from '../../domain/memory-estimate.js';
import type { AppDeps } from '../app.js';

export const memoryRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.get('/v1/memory/calibration', async () => {
    const groups = calibrate(listMemoryMeasurements(deps.db));
    return { expectedError: EXPECTED_ERROR, margin: deps.config.memoryMargin, groups };
  });
};
