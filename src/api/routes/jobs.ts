// Follow-up job routes: create on a succeeded run, list a run's jobs, one job (with its log), cancel. The use cases
// are in src/app (submit-follow-up.ts, cancel-job.ts, job-log.ts).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { cancelJob } from '../../app/cancel-job.js';
import { jobLogTail, readJobLog } from '../../app/job-log.js';
import { submitFollowUp } from '../../app/submit-follow-up.js';
import { IdParams } from '../../contract/common.js';
import { CreatedJob, JobDetail, JobView, RunJobs } from '../../contract/jobs.js';
import { listJobsOfRun, requireJob } from '../../db/jobs-repository.js';
import type { AppDeps } from '../app.js';
import { jobView } from '../job-view.js';
import { loadRun } from './runs.js';

const TEXT_LOG = {
  description: "The job's log as plain text",
  content: { 'text/plain': { schema: z.string() } },
};

export const jobRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/runs/:id/jobs',
    { schema: { params: IdParams, body: z.unknown(), response: { 201: CreatedJob } } },
    async (req, reply) => {
      const jobs = await submitFollowUp(deps, req.params.id, req.body);
      const job = jobs[jobs.length - 1]!;
      return reply.status(201).send({ ...jobView(job), chain: jobs.slice(0, -1).map(jobView) });
    },
  );

  app.get('/v1/runs/:id/jobs', { schema: { params: IdParams, response: { 200: RunJobs } } }, async (req) => {
    const run = loadRun(deps, req.params.id);
    return { runId: run.id, items: listJobsOfRun(deps.db, run.id).map(jobView) };
  });

  app.get('/v1/jobs/:id', { schema: { params: IdParams, response: { 200: JobDetail } } }, async (req) => {
    const job = requireJob(deps.db, req.params.id);
    return { ...jobView(job), logTail: jobLogTail(job.jobDir) };
  });

  app.get(
    '/v1/jobs/:id/logs',
    { schema: { params: IdParams, response: { 200: TEXT_LOG } } },
    async (req, reply) => {
      const job = requireJob(deps.db, req.params.id);
      reply.type('text/plain; charset=utf-8');
      // A stream is sent as it is; the schema documents the text it carries.
      return reply.send(readJobLog(job.jobDir) as string);
    },
  );

  app.post(
    '/v1/jobs/:id/cancel',
    { schema: { params: IdParams, response: { 200: JobView, 202: JobView } } },
    async (req, reply) => {
      const { job, state } = await cancelJob(deps, req.params.id, req.log);
      return reply.status(state === 'cancelled' ? 200 : 202).send(jobView(job));
    },
  );
};
