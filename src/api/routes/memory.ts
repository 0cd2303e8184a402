// Memory routes: the estimate's calibration against measured peaks.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

import { MemoryCalibration } from '../../contract/memory.js';
import { listMemoryMeasurements } from '../../db/memory-measurements.js';
import { calibrate, tunedMargin } from '../../domain/memory-calibration.js';
import { EXPECTED_ERROR } from '../../domain/memory-estimate.js';
import type { AppDeps } from '../app.js';

export const memoryRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.get(
    '/v1/memory/calibration',
    { schema: { response: { 200: MemoryCalibration } } },
    async (): Promise<MemoryCalibration> => {
      const groups = calibrate(listMemoryMeasurements(deps.db));
      const { memoryMargin: margin, memoryTuneAfterRuns: after } = deps.config;
      return {
        expectedError: EXPECTED_ERROR,
        margin,
        tuneAfterRuns: after,
        groups: groups.map((g) => {
          const t =
            after > 0
              ? tunedMargin(groups, g.method, g.family, margin, after)
              : { margin, source: 'MEMORY_TUNE_AFTER_RUNS=0: never tuned' };
          return { ...g, margin: t.margin, marginSource: t.source };
        }),
      };
    },
  );
};
