// The reporting protocol's routes (worker token only): attempt start, status changes, log chunks, metric batches,
// both in one call (a spool's backlog), artifact records, finish, and the control poll. The handlers are in src/reports, shared with the local worker.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { IdParams } from '../../contract/common.js';
import {
  ControlAnswer,
  LogChunkAnswer,
  MetricBatchAnswer,
  RecordedArtifact,
  RecordedEvent,
  ReportBatchAnswer,
  RunInputs,
  RunState,
  StartOutcome,
  TransitionAnswer,
  WorkerErrorAnswer,
} from '../../contract/worker-protocol.js';
import { requireRun } from '../../db/runs-repository.js';
import {
  controlAnswer,
  finishAttemptReport,
  runEventReport,
  runState,
  startAttemptReport,
  transitionReport,
  workerErrorReport,
} from '../../reports/attempt-reports.js';
import { artifactReport, logChunkReport, metricBatchReport } from '../../reports/data-reports.js';
import { reportBatch } from '../../reports/report-batch.js';
import {
  artifactBody,
  finishBody,
  logChunkBody,
  metricBatchBody,
  reportBatchBody,
  runEventBody,
  startAttemptBody,
  transitionBody,
  workerErrorBody,
} from '../../shared/report-protocol.js';
import type { AppDeps } from '../app.js';
import { bulkBodyValidator, plainJsonBodies } from '../bulk-bodies.js';
import { workerName, workerPoster, workerRouteConfig } from '../worker-route.js';

export const workerReportRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  const config = workerRouteConfig(deps.config);
  const post = workerPoster(app, config);
  plainJsonBodies(app);
  app.setValidatorCompiler(bulkBodyValidator([logChunkBody, metricBatchBody, reportBatchBody]));

  app.post(
    '/v1/worker/attempts',
    { config, schema: { body: startAttemptBody, response: { 200: StartOutcome } } },
    async (req) => startAttemptReport(deps.db, workerName(req), req.body),
  );

  post(
    '/v1/worker/runs/:id/transition',
    { body: transitionBody, answer: TransitionAnswer },
    (worker, id, body) => {
      const run = transitionReport(deps.db, worker, id, body);
      return { status: run.status, attempt: run.attempt };
    },
  );

  post(
    '/v1/worker/runs/:id/logs',
    { body: logChunkBody, answer: LogChunkAnswer, bulk: true },
    (worker, id, body) => logChunkReport(deps.db, worker, id, body),
  );

  post(
    '/v1/worker/runs/:id/metrics',
    { body: metricBatchBody, answer: MetricBatchAnswer, bulk: true },
    (worker, id, body) => ({
      ...metricBatchReport(deps.db, worker, id, body),
      ...controlAnswer(deps.db, id, body.attempt),
    }),
  );

  post(
    '/v1/worker/runs/:id/reports',
    { body: reportBatchBody, answer: ReportBatchAnswer, bulk: true },
    (worker, id, body) => reportBatch(deps.db, worker, id, body),
  );

  post(
    '/v1/worker/runs/:id/artifacts',
    { body: artifactBody, answer: RecordedArtifact },
    async (worker, id, body) => {
      await artifactReport(deps.db, deps.config.dataDir, worker, id, body);
      return { name: body.name, sha256: body.sha256, bytes: body.bytes };
    },
  );

  post('/v1/worker/runs/:id/finish', { body: finishBody, answer: RunState }, async (worker, id, body) =>
    runState(await finishAttemptReport(deps.db, deps.config, worker, id, body, deps.inputs.resolveData)),
  );

  post(
    '/v1/worker/runs/:id/error',
    { body: workerErrorBody, answer: WorkerErrorAnswer },
    (worker, id, body) => {
      const run = workerErrorReport(deps.db, deps.config, worker, id, body);
      return run
        ? runState(run)
        : { status: 'gone' as const, attempt: 0, priority: 0, notBefore: null, error: null };
    },
  );

  post('/v1/worker/runs/:id/events', { body: runEventBody, answer: RecordedEvent }, (worker, id, body) => {
    runEventReport(deps.db, worker, id, body);
    return { recorded: true as const };
  });

  // What a worker needs before it starts an attempt: the run's status and data (it downloads or checks the data first).
  app.get(
    '/v1/worker/runs/:id/inputs',
    { config, schema: { params: IdParams, response: { 200: RunInputs } } },
    async (req) => {
      const run = requireRun(deps.db, req.params.id);
      return {
        status: run.status,
        data: run.data,
        datasetSha: run.datasetSha,
        request: run.request,
        memory: run.memory,
      };
    },
  );

  app.get(
    '/v1/worker/runs/:id/control',
    {
      config,
      schema: {
        params: IdParams,
        querystring: z.object({ attempt: z.coerce.number().int().min(0) }),
        response: { 200: ControlAnswer },
      },
    },
    async (req) => controlAnswer(deps.db, req.params.id, req.query.attempt),
  );
};
