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
import { WORKER_REPORT_BODY_LIMIT, workerName, workerRouteConfig } from '../worker-route.js';

export const workerReportRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  const config = workerRouteConfig(deps.config);
  plainJsonBodies(app);
  app.setValidatorCompiler(bulkBodyValidator([logChunkBody, metricBatchBody, reportBatchBody]));

  app.post(
    '/v1/worker/attempts',
    { config, schema: { body: startAttemptBody, response: { 200: StartOutcome } } },
    async (req) => startAttemptReport(deps.db, workerName(req), req.body),
  );

  app.post(
    '/v1/worker/runs/:id/transition',
    { config, schema: { params: IdParams, body: transitionBody, response: { 200: TransitionAnswer } } },
    async (req) => {
      const run = transitionReport(deps.db, workerName(req), req.params.id, req.body);
      return { status: run.status, attempt: run.attempt };
    },
  );

  app.post(
    '/v1/worker/runs/:id/logs',
    {
      config,
      bodyLimit: WORKER_REPORT_BODY_LIMIT,
      schema: { params: IdParams, body: logChunkBody, response: { 200: LogChunkAnswer } },
    },
    async (req) => logChunkReport(deps.db, workerName(req), req.params.id, req.body),
  );

  app.post(
    '/v1/worker/runs/:id/metrics',
    {
      config,
      bodyLimit: WORKER_REPORT_BODY_LIMIT,
      schema: { params: IdParams, body: metricBatchBody, response: { 200: MetricBatchAnswer } },
    },
    async (req) => {
      const stored = metricBatchReport(deps.db, workerName(req), req.params.id, req.body);
      return { ...stored, ...controlAnswer(deps.db, req.params.id, req.body.attempt) };
    },
  );

  app.post(
    '/v1/worker/runs/:id/reports',
    {
      config,
      bodyLimit: WORKER_REPORT_BODY_LIMIT,
      schema: { params: IdParams, body: reportBatchBody, response: { 200: ReportBatchAnswer } },
    },
    async (req) => reportBatch(deps.db, workerName(req), req.params.id, req.body),
  );

  app.post(
    '/v1/worker/runs/:id/artifacts',
    { config, schema: { params: IdParams, body: artifactBody, response: { 200: RecordedArtifact } } },
    async (req) => {
      await artifactReport(deps.db, deps.config.dataDir, workerName(req), req.params.id, req.body);
      return { name: req.body.name, sha256: req.body.sha256, bytes: req.body.bytes };
    },
  );

  app.post(
    '/v1/worker/runs/:id/finish',
    { config, schema: { params: IdParams, body: finishBody, response: { 200: RunState } } },
    async (req) =>
      runState(
        await finishAttemptReport(
          deps.db,
          deps.config,
          workerName(req),
          req.params.id,
          req.body,
          deps.inputs.resolveData,
        ),
      ),
  );

  app.post(
    '/v1/worker/runs/:id/error',
    { config, schema: { params: IdParams, body: workerErrorBody, response: { 200: WorkerErrorAnswer } } },
    async (req) => {
      const run = workerErrorReport(deps.db, deps.config, workerName(req), req.params.id, req.body);
      return run
        ? runState(run)
        : { status: 'gone' as const, attempt: 0, priority: 0, notBefore: null, error: null };
    },
  );

  app.post(
    '/v1/worker/runs/:id/events',
    { config, schema: { params: IdParams, body: runEventBody, response: { 200: RecordedEvent } } },
    async (req) => {
      runEventReport(deps.db, workerName(req), req.params.id, req.body);
      return { recorded: true as const };
    },
  );

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
