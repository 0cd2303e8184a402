// The raw baseline server: Fastify + zod + better-sqlite3 + BullMQ with nothing of the project in it.
//   POST /v1/runs      zod-validate the request, INSERT one row, queue.add (RAW_SUBMIT_DB set)
//   GET  /v1/runs      a page of 50 from the project's runs table, plain prepared statement (RAW_HISTORY_DB set)
//   GET  /v1/runs/:id  the run row and its metric rows, plain prepared statements (RAW_HISTORY_DB set)
// Started with fork(); reports its port over IPC and exits on 'close'.
import { randomUUID } from 'node:crypto';

import type Database from 'better-sqlite3';
import { Queue } from 'bullmq';
import Fastify from 'fastify';

import { openRawDb } from '../lib/raw-db.js';
import { RawRequest } from './raw-request.js';

const env = process.env;
const app = Fastify({ logger: false });

let queue: Queue | undefined;
const dbs: Database.Database[] = [];

if (env.RAW_SUBMIT_DB) {
  const db = openRawDb(env.RAW_SUBMIT_DB);
  dbs.push(db);
  db.exec(`CREATE TABLE IF NOT EXISTS raw_runs (id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at INTEGER NOT NULL, request TEXT NOT NULL);
           CREATE INDEX IF NOT EXISTS raw_runs_created ON raw_runs (created_at)`);
  const insert = db.prepare(
    "INSERT INTO raw_runs (id, status, created_at, request) VALUES (?, 'queued', ?, ?)",
  );
  queue = new Queue('runs', { connection: { url: env.REDIS_URL }, prefix: env.RAW_PREFIX });
  await queue.waitUntilReady();
  const q = queue;
  app.post('/v1/runs', async (req, reply) => {
    const parsed = RawRequest.safeParse(req.body);
    if (!parsed.success)
      return reply.code(400).send({ error: 'invalid request', issues: parsed.error.issues });
    const id = randomUUID();
    insert.run(id, Date.now(), JSON.stringify(parsed.data));
    await q.add('train', { runId: id }, { jobId: id });
    return reply.code(201).send({ id, status: 'queued' });
  });
}

if (env.RAW_HISTORY_DB) {
  const db = openRawDb(env.RAW_HISTORY_DB);
  dbs.push(db);
  const page = db.prepare('SELECT * FROM runs ORDER BY created_at DESC, id DESC LIMIT ?');
  const pageByStatus = db.prepare(
    'SELECT * FROM runs WHERE status = ? ORDER BY created_at DESC, id DESC LIMIT ?',
  );
  const one = db.prepare('SELECT * FROM runs WHERE id = ?');
  const points = db.prepare(
    'SELECT * FROM metrics WHERE run_id = ? ORDER BY name, split, iteration, attempt',
  );
  app.get<{ Querystring: { status?: string; limit?: string } }>('/v1/runs', async (req) => {
    const limit = Number(req.query.limit ?? 50);
    const rows = req.query.status ? pageByStatus.all(req.query.status, limit + 1) : page.all(limit + 1);
    return { items: rows.slice(0, limit) };
  });
  app.get<{ Params: { id: string } }>('/v1/runs/:id', async (req, reply) => {
    const run = one.get(req.params.id);
    if (!run) return reply.code(404).send({ error: 'not_found' });
    return { ...run, metrics: points.all(req.params.id) };
  });
}

app.get('/healthz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.send?.({ type: 'listening', port: typeof address === 'object' && address ? address.port : 0 });

process.on('message', (m: unknown) => {
  if (m !== 'close') return;
  void (async () => {
    await app.close();
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    for (const db of dbs) db.close();
    process.exit(0);
  })();
});
