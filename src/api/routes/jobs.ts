// Follow-up job routes: create on a succeeded run, list a run's jobs, one job (with its log), cancel.
import fs from 'node:fs';
import path from 'node:path';

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import {
  assertSucceeded,
  checkFollowUpPaths,
  checkRequestForRun,
  createJobs,
  jobRowsFor,
} from '../../app/submit-follow-up.js';
import { CreatedJob, JobDetail, JobView, RunJobs } from '../../contract/jobs.js';
import {
  deleteJobs,
  getJob,
  listJobsOfRun,
  requestJobCancel,
  requireJob,
  transitionJob,
} from '../../db/jobs-repository.js';
import { ConflictError, ServiceUnavailableError } from '../../domain/errors.js';
import { isJobFinal } from '../../domain/follow-up-job.js';
import { parseFollowUpRequest } from '../../domain/follow-up-request.js';
import { enqueueFollowUps, followUpJobOptions } from '../../shared/follow-up-queue.js';
import { cancelChannel } from '../../shared/queue.js';
import type { AppDeps } from '../app.js';
import { jobView } from '../job-view.js';
import { loadRun } from './runs.js';

const idParams = z.object({ id: z.string().min(1).max(100) });

const TEXT_LOG = {
  description: "The job's log as plain text",
  content: { 'text/plain': { schema: z.string() } },
};

function logTail(jobDir: string, lines = 40): string[] {
  try {
    return fs.readFileSync(path.join(jobDir, 'job.log'), 'utf8').split('\n').filter(Boolean).slice(-lines);
  } catch {
    return [];
  }
}

export const jobRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/runs/:id/jobs',
    { schema: { params: idParams, body: z.unknown(), response: { 201: CreatedJob } } },
    async (req, reply) => {
      const body = parseFollowUpRequest(req.body);
      const run = loadRun(deps, req.params.id);
      assertSucceeded(run);
      checkRequestForRun(deps.config, run, body);
      await checkFollowUpPaths(deps.inputs, body);
      const jobs = createJobs(deps.db, jobRowsFor(deps.db, run, body, 'request'));
      try {
        await enqueueFollowUps(deps.queue, jobs);
      } catch (e) {
        deleteJobs(
          deps.db,
          jobs.map((j) => j.id),
        );
        throw new ServiceUnavailableError(
          'The queue (Redis) is unavailable; nothing was created. Try again shortly.',
          { cause: e },
        );
      }
      const job = jobs[jobs.length - 1]!;
      return reply.status(201).send({ ...jobView(job), chain: jobs.slice(0, -1).map(jobView) });
    },
  );

  app.get('/v1/runs/:id/jobs', { schema: { params: idParams, response: { 200: RunJobs } } }, async (req) => {
    const run = loadRun(deps, req.params.id);
    return { runId: run.id, items: listJobsOfRun(deps.db, run.id).map(jobView) };
  });

  app.get('/v1/jobs/:id', { schema: { params: idParams, response: { 200: JobDetail } } }, async (req) => {
    const job = requireJob(deps.db, req.params.id);
    return { ...jobView(job), logTail: logTail(job.jobDir) };
  });

  app.get(
    '/v1/jobs/:id/logs',
    { schema: { params: idParams, response: { 200: TEXT_LOG } } },
    async (req, reply) => {
      const job = requireJob(deps.db, req.params.id);
      const file = path.join(job.jobDir, 'job.log');
      reply.type('text/plain; charset=utf-8');
      // A stream is sent as it is; the schema documents the text it carries.
      return reply.send(fs.existsSync(file) ? (fs.createReadStream(file) as unknown as string) : '');
    },
  );

  app.post(
    '/v1/jobs/:id/cancel',
    { schema: { params: idParams, response: { 200: JobView, 202: JobView } } },
    async (req, reply) => {
      const job = requireJob(deps.db, req.params.id);
      if (isJobFinal(job.status)) throw new ConflictError(`Job ${job.id} is already ${job.status}`);
      requestJobCancel(deps.db, job.id);
      if (job.status === 'queued') {
        let cancelled: ReturnType<typeof transitionJob> | null = null;
        try {
          cancelled = transitionJob(deps.db, job.id, 'queued', 'cancelled', {
            error: 'cancelled by request',
          });
        } catch (e) {
          if (!(e instanceof ConflictError)) throw e;
        }
        if (cancelled) {
          await deps.queue.remove(followUpJobOptions(job.kind, job.id, job.attempt + 1).jobId).catch(() => 0);
          return reply.status(200).send(jobView(cancelled));
        }
      }
      await deps.redis
        .publish(cancelChannel(deps.config.queuePrefix), job.id)
        .catch((err: unknown) =>
          req.log.warn({ err }, 'cancel signal not published; the worker polls the flag'),
        );
      return reply.status(202).send(jobView(getJob(deps.db, job.id)!));
    },
  );
};
