// Run routes: submit (and dry run), list, detail, metrics, logs (plain text or server-sent events).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { readRunLog } from '../../app/run-log.js';
import { prepareRun, submitRun } from '../../app/submit-run.js';
import { runWaiting } from '../../app/worker-status.js';
import { IdParams } from '../../contract/common.js';
import { DryRun, RunDetail, RunList, RunMetrics, SubmittedRun } from '../../contract/runs.js';
import { getLogLines } from '../../db/logs-repository.js';
import { getMetrics, latestMetrics } from '../../db/metrics-repository.js';
import { getRun, listAttempts, listRunEvents, listRuns } from '../../db/runs-repository.js';
import { NotFoundError } from '../../domain/errors.js';
import { METHODS } from '../../domain/methods.js';
import { isFinal, RUN_STATUSES } from '../../domain/run-status.js';
import { withRunBody } from '../../domain/yaml-body.js';
import type { AppDeps } from '../app.js';
import { runSummaryView, runView } from '../run-view.js';

const listQuery = z.object({
  status: z.enum(RUN_STATUSES).optional(),
  method: z.enum(METHODS).optional(),
  model: z.string().max(4096).optional(),
  sweep: z.string().max(100).optional(),
  tag: z.string().max(64).optional(),
  created_from: z.iso.datetime({ offset: true }).optional(),
  created_to: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

/** The log as text, or (follow=true) server-sent events `line`, `status` and `end` (see contract/runs.ts). */
const LOG_ANSWER = {
  description: 'The log as plain text; with follow=true, server-sent events: line, status, end',
  content: {
    'text/plain': { schema: z.string() },
    'text/event-stream': { schema: z.string() },
  },
};

export function loadRun(deps: AppDeps, id: string) {
  const run = getRun(deps.db, id);
  if (!run) throw new NotFoundError('Run', id);
  return run;
}

export const runRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  // A follow stream would hold the server open until its run ends (hours): on close, every stream ends first.
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());
  app.post(
    '/v1/runs',
    {
      schema: {
        querystring: z.object({ dryRun: z.enum(['true', 'false', '1', '0']).optional() }),
        headers: z.object({ 'idempotency-key': z.string().min(1).max(200).optional() }).loose(),
        body: z.unknown(),
        response: { 200: z.union([SubmittedRun, DryRun]), 201: SubmittedRun },
      },
      config: { rateLimit: { max: deps.config.submitRatePerMin, timeWindow: '1 minute' } },
    },
    async (req, reply) => {
      if (req.query.dryRun === 'true' || req.query.dryRun === '1') {
        const { result: p, warnings: yamlWarnings } = await withRunBody(req.body, (body) =>
          prepareRun(body, deps),
        );
        return reply.send({
          argv: p.command.argv,
          config: p.command.configYaml,
          env: p.command.env,
          warnings: [...yamlWarnings, ...p.warnings],
          request: p.request,
          dataset: p.dataset,
          memory: { ...p.memory.memory, suggestions: p.memory.suggestions },
          progressTotal: p.progressTotal,
          flagSet: p.flagSet,
        });
      }
      const key = req.headers['idempotency-key'];
      const { result, warnings: yamlWarnings } = await withRunBody(req.body, (body) =>
        submitRun(body, deps, { idempotencyKey: key }),
      );
      const { run, created, warnings } = result;
      return reply
        .status(created ? 201 : 200)
        .send({ ...runView(run), warnings: [...yamlWarnings, ...warnings] });
    },
  );

  app.get('/v1/runs', { schema: { querystring: listQuery, response: { 200: RunList } } }, async (req) => {
    const q = req.query;
    const page = listRuns(deps.db, {
      status: q.status,
      method: q.method,
      model: q.model,
      sweepId: q.sweep,
      tag: q.tag,
      createdFrom: q.created_from ? Date.parse(q.created_from) : undefined,
      createdTo: q.created_to ? Date.parse(q.created_to) : undefined,
      limit: q.limit,
      cursor: q.cursor,
    });
    return { items: page.items.map(runSummaryView), nextCursor: page.nextCursor };
  });

  app.get('/v1/runs/:id', { schema: { params: IdParams, response: { 200: RunDetail } } }, async (req) => {
    const run = loadRun(deps, req.params.id);
    return {
      ...runView(run),
      waiting: await runWaiting(deps.redis, deps.config, run),
      latestMetrics: latestMetrics(deps.db, run.id),
      events: listRunEvents(deps.db, run.id),
      attempts: listAttempts(deps.db, run.id),
    };
  });

  app.get(
    '/v1/runs/:id/metrics',
    {
      schema: {
        params: IdParams,
        querystring: z.object({
          name: z.string().max(200).optional(),
          split: z.enum(['train', 'val', 'test']).optional(),
          since: z.coerce.number().int().min(0).optional(),
        }),
        response: { 200: RunMetrics },
      },
    },
    async (req) => {
      const run = loadRun(deps, req.params.id);
      const points = getMetrics(deps.db, run.id, {
        name: req.query.name,
        split: req.query.split,
        sinceIteration: req.query.since,
      });
      return { runId: run.id, points };
    },
  );

  app.get(
    '/v1/runs/:id/logs',
    {
      schema: {
        params: IdParams,
        querystring: z.object({
          follow: z.enum(['true', 'false', '1', '0']).optional(),
          after: z.coerce.number().int().min(0).optional(),
        }),
        response: { 200: LOG_ANSWER },
      },
    },
    async (req, reply) => {
      const run = loadRun(deps, req.params.id);
      if (req.query.follow === 'true' || req.query.follow === '1') {
        return followLogs(deps, run.id, req.query.after ?? 0, req, reply, closing.signal);
      }
      reply.type('text/plain; charset=utf-8');
      // A stream is sent as it is; the schema documents the text it carries.
      return reply.send(readRunLog(deps.db, run) as string);
    },
  );
};

/**
 * Streams log lines as server-sent events until the run is final and every line is sent, or the server shuts down:
 * then a last `event: end` with {reason: "shutdown"} tells the client to reconnect later (after `id:` it last saw).
 */
async function followLogs(
  deps: AppDeps,
  runId: string,
  afterSeq: number,
  req: FastifyRequest,
  reply: FastifyReply,
  closing: AbortSignal,
) {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  let seq = afterSeq;
  let closed = false;
  req.raw.on('close', () => (closed = true));
  let lastStatus = '';
  while (!closed) {
    const lines = getLogLines(deps.db, runId, { afterSeq: seq, limit: 1000 });
    for (const l of lines) {
      res.write(
        `id: ${l.seq}\nevent: line\ndata: ${JSON.stringify({ seq: l.seq, stream: l.stream, text: l.text })}\n\n`,
      );
      seq = l.seq;
    }
    const run = getRun(deps.db, runId);
    if (!run) break;
    if (run.status !== lastStatus) {
      lastStatus = run.status;
      res.write(
        `event: status\ndata: ${JSON.stringify({ status: run.status, progress: runView(run).progress })}\n\n`,
      );
    }
    if (lines.length === 1000) continue;
    if (isFinal(run.status)) {
      res.write(`event: end\ndata: ${JSON.stringify({ status: run.status, error: run.error })}\n\n`);
      break;
    }
    if (closing.aborted) {
      res.write(`event: end\ndata: ${JSON.stringify({ reason: 'shutdown', status: run.status })}\n\n`);
      break;
    }
    await sleep(250, closing);
  }
  res.end();
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
