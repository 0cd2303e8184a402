// buildApp(deps): registers routes and the error handler; never listens (tests use inject).
import type { IncomingMessage, ServerResponse } from 'node:http';

import rateLimit from '@fastify/rate-limit';
import type { Queue } from 'bullmq';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { Db } from '../db/client.js';
import type { InputCheckDeps } from '../inputs/check-run-inputs.js';
import type { Config } from '../shared/config.js';
import { installAuth } from './auth.js';
import { errorHandler, notFoundHandler } from './error-handler.js';
import { registerDocsUi, registerOpenApi } from './openapi.js';
import { createResponseSerializer } from './response-serializer.js';
import { artifactRoutes } from './routes/artifacts.js';
import { bullBoardRoutes } from './routes/bull-board.js';
import { datasetUploadRoutes } from './routes/dataset-uploads.js';
import { datasetRoutes } from './routes/datasets.js';
import { healthRoutes } from './routes/health.js';
import { jobRoutes } from './routes/jobs.js';
import { loginRoutes } from './routes/login.js';
import { memoryRoutes } from './routes/memory.js';
import { methodRoutes } from './routes/methods.js';
import { pageRoutes } from './routes/pages.js';
import { runActionRoutes } from './routes/run-actions.js';
import { runRoutes } from './routes/runs.js';
import { sweepRoutes } from './routes/sweeps.js';
import { webhookRoutes } from './routes/webhooks.js';
import { workerFileRoutes } from './routes/worker-files.js';
import { workerJobRoutes } from './routes/worker-jobs.js';
import { workerReportRoutes } from './routes/worker-reports.js';
import { workerRoutes } from './routes/workers.js';
import { registerYamlBodyParser } from './yaml-body-parser.js';

export interface AppDeps {
  config: Config;
  db: Db;
  queue: Queue;
  /** A connection for readiness checks and publishing cancel signals. */
  redis: Redis;
  inputs: InputCheckDeps;
  logger?: Logger | false;
  /** Check every JSON answer against its route's response schema (tests); a mismatch fails the request. */
  checkResponses?: boolean;
}

export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger ? (deps.logger as unknown as FastifyBaseLogger) : undefined,
    bodyLimit: deps.config.bodyLimitBytes,
    // Malformed URLs and over-long path parameters get the same {error, message} body as everything else.
    frameworkErrors: (error, request, reply) => {
      errorHandler(error, request, reply);
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(createResponseSerializer({ check: deps.checkResponses ?? false }));
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // Before any route: auth covers every route registered after it; swagger and rate-limit collect routes as added.
  await installAuth(app, deps.config, deps.db);
  await app.register(rateLimit, { global: false });
  await registerOpenApi(app);
  registerYamlBodyParser(app);
  await app.register(healthRoutes, deps);
  await app.register(methodRoutes, deps);
  await app.register(datasetRoutes, deps);
  await app.register(datasetUploadRoutes, deps);
  await app.register(loginRoutes, deps);
  await app.register(runRoutes, deps);
  await app.register(runActionRoutes, deps);
  await app.register(sweepRoutes, deps);
  await app.register(webhookRoutes, deps);
  await app.register(memoryRoutes, deps);
  await app.register(artifactRoutes, deps);
  await app.register(jobRoutes, deps);
  await app.register(workerRoutes, deps);
  await app.register(workerReportRoutes, deps);
  await app.register(workerFileRoutes, deps);
  await app.register(workerJobRoutes, deps);
  await app.register(pageRoutes, deps);
  await app.register(bullBoardRoutes, deps);
  await registerDocsUi(app);
  return app;
}
