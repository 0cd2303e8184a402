// The follow-up jobs' reporting routes (worker token only): start, log, artifact records, the cancel poll, finish, and
// the model folder of the job before it in its chain. The handlers are in src/reports, shared with the local worker.
import { createReadStream } from 'node:fs';

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { folderTarStream } from '../../artifacts/artifact-files.js';
import { IdParams } from '../../contract/common.js';
import {
  JobArtifactAnswer,
  JobArtifactBody,
  JobFinishBody,
  JobLogAnswer,
  JobLogBody,
  JobStartBody,
  JobStartOutcome,
  JobState,
} from '../../contract/job-protocol.js';
import { BYTES_ANSWER } from '../../contract/worker-protocol.js';
import { listArtifactsOfRun } from '../../db/artifacts-repository.js';
import { requireJob } from '../../db/jobs-repository.js';
import { NotFoundError } from '../../domain/errors.js';
import { finishJobReport, jobArtifactReport, jobControl, jobLogReport } from '../../reports/job-reports.js';
import { startJobReport } from '../../reports/job-start.js';
import type { AppDeps } from '../app.js';
import { workerName, workerPoster, workerRouteConfig } from '../worker-route.js';

export const workerJobRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  const config = workerRouteConfig(deps.config);
  const post = workerPoster(app, config);

  post('/v1/worker/jobs/:id/start', { body: JobStartBody, answer: JobStartOutcome }, (worker, id, body) =>
    startJobReport(deps.db, deps.config.dataDir, worker, id, body),
  );

  post(
    '/v1/worker/jobs/:id/logs',
    { body: JobLogBody, answer: JobLogAnswer, bulk: true },
    (worker, id, body) => jobLogReport(deps.db, worker, id, body),
  );

  post(
    '/v1/worker/jobs/:id/artifacts',
    { body: JobArtifactBody, answer: JobArtifactAnswer },
    (worker, id, body) => jobArtifactReport(deps.db, deps.config.dataDir, worker, id, body),
  );

  app.get(
    '/v1/worker/jobs/:id/control',
    {
      config,
      schema: {
        params: IdParams,
        querystring: z.object({ attempt: z.coerce.number().int().min(0) }),
        response: { 200: JobState },
      },
    },
    async (req) => jobControl(deps.db, workerName(req), req.params.id, req.query.attempt),
  );

  post('/v1/worker/jobs/:id/finish', { body: JobFinishBody, answer: JobState }, (worker, id, body) =>
    finishJobReport(deps.db, worker, id, body),
  );

  // The fused model an export starts from, as its recorded bytes (a folder as its deterministic tar).
  app.get(
    '/v1/worker/jobs/:id/parent-output',
    { config, schema: { params: IdParams, response: { 200: BYTES_ANSWER } } },
    async (req, reply) => {
      const job = requireJob(deps.db, req.params.id);
      const made = listArtifactsOfRun(deps.db, job.runId).find(
        (a) => a.jobId !== null && a.jobId === job.parentJobId && a.kind === 'fused_model',
      );
      if (!made) throw new NotFoundError('Fused model of the job before', req.params.id);
      const body = made.isDir ? await folderTarStream(made.path) : createReadStream(made.path);
      return reply.type('application/octet-stream').send(body as unknown as string); // a stream goes out as it is
    },
  );
};
