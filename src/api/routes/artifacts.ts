// Artifact routes: a run's artifacts, and the download of one (a file as it is, a folder as a tar), streamed.
import fs from 'node:fs';
import path from 'node:path';

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { folderTarStream } from '../../artifacts/artifact-files.js';
import { ensureTrainingArtifacts } from '../../artifacts/record-artifacts.js';
import { IdParams } from '../../contract/common.js';
import { RunArtifacts } from '../../contract/jobs.js';
import { getArtifact, listArtifactsOfRun } from '../../db/artifacts-repository.js';
import { NotFoundError } from '../../domain/errors.js';
import type { AppDeps } from '../app.js';
import { artifactView } from '../job-view.js';
import { loadRun } from './runs.js';

const READ_CHUNK = 1024 * 1024;

/** A file as it is, or a folder as a tar; the x-artifact-sha256 header carries the recorded sha256. */
const DOWNLOAD = {
  description: 'The artifact: a file as it is, a folder as a deterministic tar (sha256 in x-artifact-sha256)',
  content: {
    'application/octet-stream': { schema: z.string() },
    'application/x-tar': { schema: z.string() },
    'application/json': { schema: z.string() },
  },
};

/** A header-safe file name (RFC 6266 plain form; the names are the service's own). */
const attachment = (name: string) => `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"`;

export const artifactRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.get(
    '/v1/runs/:id/artifacts',
    { schema: { params: IdParams, response: { 200: RunArtifacts } } },
    async (req) => {
      const run = loadRun(deps, req.params.id);
      await ensureTrainingArtifacts(deps.db, run);
      return { runId: run.id, items: listArtifactsOfRun(deps.db, run.id).map(artifactView) };
    },
  );

  app.get(
    '/v1/artifacts/:id/download',
    { schema: { params: IdParams, response: { 200: DOWNLOAD } } },
    async (req, reply) => {
      const artifact = getArtifact(deps.db, req.params.id);
      if (!artifact) throw new NotFoundError('Artifact', req.params.id);
      const stat = await fs.promises.stat(artifact.path).catch(() => null);
      if (!stat || stat.isDirectory() !== artifact.isDir)
        throw new NotFoundError('Artifact file', `${artifact.id} (${artifact.path})`);
      reply.header('x-artifact-sha256', artifact.sha256);
      if (artifact.isDir) {
        reply.header('content-disposition', attachment(`${path.basename(artifact.path)}.tar`));
        // The tar is deterministic, so its length is the recorded one unless the folder changed since.
        reply.type('application/x-tar');
        return reply.send((await folderTarStream(artifact.path)) as unknown as string); // a stream goes out as it is
      }
      reply.header('content-disposition', attachment(path.basename(artifact.path)));
      reply.header('content-length', stat.size);
      reply.type(artifact.path.endsWith('.json') ? 'application/json' : 'application/octet-stream');
      // 1 MiB reads: a sixteenth of the syscalls and chunks of the 64 KiB default, for files of gigabytes.
      return reply.send(
        fs.createReadStream(artifact.path, { highWaterMark: READ_CHUNK }) as unknown as string,
      ); // a stream goes out as it is
    },
  );
};
