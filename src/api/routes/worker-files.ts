// Files between workers and the control plane (worker token only): the content-addressed blob store (checkpoints,
// adapters) up and down, and uploaded datasets down, each addressed by SHA-256.
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { BYTES_ANSWER, DatasetManifest, StoredBlob } from '../../contract/worker-protocol.js';
import { getDataset } from '../../db/datasets-repository.js';
import { NotFoundError } from '../../domain/errors.js';
import { datasetsDir } from '../../inputs/resolve-data.js';
import { blobPath, hasBlob, putBlob } from '../../reports/blob-store.js';
import { sha256Param } from '../../shared/report-protocol.js';
import type { AppDeps } from '../app.js';
import { workerRouteConfig } from '../worker-route.js';

const shaParams = z.object({ sha: sha256Param });
const fileParams = z.object({ sha: sha256Param, file: z.enum(['train.jsonl', 'valid.jsonl', 'test.jsonl']) });

export const workerFileRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  const config = workerRouteConfig(deps.config);
  // Only in this plugin: a blob upload arrives as a raw stream, hashed on its way to disk.
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));

  app.put(
    '/v1/worker/blobs/:sha',
    { config, schema: { params: shaParams, response: { 200: StoredBlob, 201: StoredBlob } } },
    async (req, reply) => {
      const { bytes, created } = await putBlob(
        deps.config.dataDir,
        req.params.sha,
        req.body as Readable,
        deps.config.uploadLimitBytes,
      );
      return reply.status(created ? 201 : 200).send({ sha256: req.params.sha, bytes });
    },
  );

  app.get(
    '/v1/worker/blobs/:sha',
    { config, schema: { params: shaParams, response: { 200: BYTES_ANSWER } } },
    async (req, reply) => {
      if (!(await hasBlob(deps.config.dataDir, req.params.sha)))
        throw new NotFoundError('Blob', req.params.sha);
      // A stream goes out as it is; the schema documents the bytes it carries.
      const bytes = createReadStream(blobPath(deps.config.dataDir, req.params.sha));
      return reply.type('application/octet-stream').send(bytes as unknown as string);
    },
  );

  // The dataset's files with their sizes; the worker checks the content against the SHA-256 it asked for.
  app.get(
    '/v1/worker/datasets/:sha',
    { config, schema: { params: shaParams, response: { 200: DatasetManifest } } },
    async (req) => {
      const row = getDataset(deps.db, req.params.sha);
      if (!row) throw new NotFoundError('Dataset', req.params.sha);
      const dir = path.join(datasetsDir(deps.config.dataDir), row.sha256);
      const files = await Promise.all(
        row.files.map(async (file) => ({ file, bytes: (await fs.stat(path.join(dir, file))).size })),
      );
      return { sha256: row.sha256, files };
    },
  );

  app.get(
    '/v1/worker/datasets/:sha/:file',
    { config, schema: { params: fileParams, response: { 200: BYTES_ANSWER } } },
    async (req, reply) => {
      const row = getDataset(deps.db, req.params.sha);
      if (!row?.files.includes(req.params.file))
        throw new NotFoundError('Dataset file', `${req.params.sha}/${req.params.file}`);
      const file = path.join(datasetsDir(deps.config.dataDir), row.sha256, req.params.file);
      return reply.type('application/octet-stream').send(createReadStream(file) as unknown as string);
    },
  );
};
