// Workers: the live ones from the registry; credentials for workers on other Macs (create, its token shown once;
// revoke); and a worker's own view of its token.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { readWorkers } from '../../app/worker-status.js';
import { IdParams } from '../../contract/common.js';
import { CreatedWorkerCredential, WorkerCredentialView, WorkerList } from '../../contract/health.js';
import {
  insertWorkerCredential,
  listWorkerCredentials,
  revokeWorkerCredential,
  type WorkerCredential,
} from '../../db/worker-credentials-repository.js';
import { newId } from '../../domain/ids.js';
import type { AppDeps } from '../app.js';
import { workerRouteConfig } from '../worker-route.js';
import { mintWorkerToken } from '../worker-tokens.js';
import { workersView } from '../worker-view.js';

export const WORKER_NAME = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/,
    'letters, digits, ".", "_" and "-", at most 63, starting with a letter or digit',
  );
export const WORKER_LABEL = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._:=-]{0,62}$/, 'lower-case letters, digits and . _ : = -, at most 63');

const createBody = z.strictObject({
  name: WORKER_NAME,
  labels: z.array(WORKER_LABEL).max(32).default([]),
});

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export function credentialView(c: WorkerCredential): WorkerCredentialView {
  return {
    id: c.id,
    name: c.name,
    labels: c.labels,
    createdAt: iso(c.createdAt),
    revokedAt: iso(c.revokedAt),
    lastUsedAt: iso(c.lastUsedAt),
  };
}

export const workerRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.get('/v1/workers', { schema: { response: { 200: WorkerList } } }, async () => ({
    ...workersView(await readWorkers(deps.redis, deps.config)),
    registered: listWorkerCredentials(deps.db).map(credentialView),
  }));

  app.post(
    '/v1/workers',
    { schema: { body: createBody, response: { 201: CreatedWorkerCredential } } },
    async (req, reply) => {
      const id = newId('wkr');
      const { token, tokenHash } = mintWorkerToken(id);
      const labels = [...new Set(req.body.labels)];
      const created = insertWorkerCredential(deps.db, { id, name: req.body.name, labels, tokenHash });
      // The only time the token leaves the server: SQLite keeps its SHA-256.
      return reply.status(201).send({ ...credentialView(created), token });
    },
  );

  app.delete(
    '/v1/workers/:id',
    { schema: { params: IdParams, response: { 200: WorkerCredentialView } } },
    async (req) => {
      return credentialView(revokeWorkerCredential(deps.db, req.params.id));
    },
  );

  // The worker's own check at start: is this token valid, and under which name and labels.
  app.get(
    '/v1/worker/me',
    { config: workerRouteConfig(deps.config), schema: { response: { 200: WorkerCredentialView } } },
    async (req) => credentialView(req.worker!),
  );
};
