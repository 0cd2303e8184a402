// Uploaded datasets: POST /v1/datasets (multipart), list, show, delete (refused while an active run uses one).
import fs from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import fastifyMultipart, { type Multipart } from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { NoContent } from '../../contract/common.js';
import { DatasetList, DatasetView, UploadedDataset } from '../../contract/datasets.js';
import {
  UPLOAD_SPLITS,
  UploadSession,
  type UploadSplit,
  UploadTooLargeError,
} from '../../datasets/store-upload.js';
import type { DatasetReport } from '../../datasets/validate-dataset.js';
import {
  type Dataset,
  deleteDataset,
  getDataset,
  insertDataset,
  listDatasets,
} from '../../db/datasets-repository.js';
import {
  DatasetValidationError,
  type FieldIssue,
  NotFoundError,
  RequestValidationError,
} from '../../domain/errors.js';
import { METHOD_INFO, METHODS } from '../../domain/methods.js';
import { datasetsDir } from '../../inputs/resolve-data.js';
import type { AppDeps } from '../app.js';

const FIELDS = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  method: z.enum(METHODS).optional(),
  /** Rows are checked against it only when method is given; a run checks again with its own batch_size. */
  batch_size: z.coerce.number().int().min(1).max(1_000_000).default(1),
});

const shaParams = z.object({
  sha: z
    .string()
    .regex(
      /^(dataset:)?[0-9a-f]{64}$/,
      'must be a dataset id: 64 lowercase hex digits, optionally prefixed "dataset:"',
    )
    .transform((s) => s.replace(/^dataset:/, '')),
});

export function datasetView(d: Dataset): DatasetView {
  return {
    id: `dataset:${d.sha256}`,
    sha256: d.sha256,
    name: d.name,
    files: d.files,
    rows: d.rows,
    bytes: d.bytes,
    createdAt: new Date(d.createdAt).toISOString(),
  };
}

/** 'train', 'train.jsonl' (or a part named 'file' whose filename is train.jsonl) name the train split. */
function splitOf(part: Multipart): UploadSplit | undefined {
  const name =
    /^(files?|datasets?)$/.test(part.fieldname) && part.type === 'file' ? part.filename : part.fieldname;
  const bare = name.replace(/\.jsonl$/, '');
  return (UPLOAD_SPLITS as readonly string[]).includes(bare) ? (bare as UploadSplit) : undefined;
}

/** Turns what busboy and @fastify/multipart throw into 400/413; system errors (disk full) stay 500s. */
function translate(e: unknown, limit: number): unknown {
  if (e instanceof UploadTooLargeError || e instanceof RequestValidationError) return e;
  const err = e as { statusCode?: number; syscall?: string; message?: string };
  if (err.syscall) return e;
  if (err.statusCode === 413) return new UploadTooLargeError(limit);
  return new RequestValidationError([
    { path: 'body', message: `malformed multipart body: ${err.message ?? String(e)}` },
  ]);
}

async function drain(stream: NodeJS.ReadableStream): Promise<void> {
  await pipeline(stream, new Writable({ write: (_c, _e, cb) => cb() }));
}

/** Reads every part: files stream into the session, fields are collected, bad parts become issues. */
async function receiveParts(parts: AsyncIterable<Multipart>, session: UploadSession, limit: number) {
  const fields: Record<string, unknown> = {};
  const issues: FieldIssue[] = [];
  for await (const part of parts) {
    if (part.type === 'field') {
      if (!Object.hasOwn(FIELDS.shape, part.fieldname))
        issues.push({
          path: part.fieldname,
          message: `unknown field (fields: ${Object.keys(FIELDS.shape).join(', ')})`,
        });
      else if (Object.hasOwn(fields, part.fieldname))
        issues.push({ path: part.fieldname, message: 'is given twice' });
      else fields[part.fieldname] = part.value;
      continue;
    }
    const split = splitOf(part);
    if (split === undefined || session.has(split)) {
      issues.push({
        path: part.fieldname,
        message: split
          ? `${split}.jsonl is given twice`
          : 'unknown file part: send train.jsonl, valid.jsonl and/or test.jsonl',
      });
      await drain(part.file);
      continue;
    }
    await session.addFile(split, part.file);
    if (part.file.truncated) throw new UploadTooLargeError(limit);
  }
  if (!session.has('train'))
    issues.push({ path: 'train.jsonl', message: 'is required (a file part named train.jsonl)' });
  const parsed = FIELDS.safeParse(fields);
  if (!parsed.success)
    issues.push(
      ...parsed.error.issues.map((i) => ({
        path: i.path.map(String).join('.') || 'body',
        message: i.message,
      })),
    );
  if (issues.length > 0 || !parsed.success) throw new RequestValidationError(issues);
  return parsed.data;
}

export const datasetUploadRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  const limit = deps.config.uploadLimitBytes;
  const store = datasetsDir(deps.config.dataDir);
  await app.register(fastifyMultipart, {
    limits: {
      fileSize: limit,
      files: 3,
      fields: 10,
      fieldSize: 1024,
      fieldNameSize: 100,
      parts: 13,
      headerPairs: 50,
    },
  });

  app.post(
    '/v1/datasets',
    {
      schema: {
        summary: 'Upload a dataset (multipart: train.jsonl, valid.jsonl, test.jsonl)',
        response: { 200: UploadedDataset, 201: UploadedDataset },
      },
    },
    async (req, reply) => {
      if (!req.isMultipart()) {
        throw Object.assign(
          new Error('Send multipart/form-data with file parts train.jsonl, valid.jsonl, test.jsonl'),
          {
            statusCode: 415,
            code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE',
          },
        );
      }
      const session = await UploadSession.start(store, limit);
      let stored: { row: Dataset; created: boolean };
      try {
        const fields = await receiveParts(req.parts(), session, limit).catch((e: unknown) => {
          throw translate(e, limit);
        });
        await checkContent(session, fields, deps);
        stored = await storeUpload(session, fields.name, deps);
      } finally {
        await session.discard(); // before answering, so the answer never races the clean-up
      }
      return reply
        .status(stored.created ? 201 : 200)
        .send({ ...datasetView(stored.row), deduplicated: !stored.created });
    },
  );

  app.get(
    '/v1/datasets',
    {
      schema: {
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }),
        response: { 200: DatasetList },
      },
    },
    async (req) => ({
      items: listDatasets(deps.db, req.query.limit).map(datasetView),
    }),
  );

  app.get(
    '/v1/datasets/:sha',
    { schema: { params: shaParams, response: { 200: DatasetView } } },
    async (req) => {
      const row = getDataset(deps.db, req.params.sha);
      if (!row) throw new NotFoundError('Dataset', req.params.sha);
      return datasetView(row);
    },
  );

  app.delete(
    '/v1/datasets/:sha',
    { schema: { params: shaParams, response: { 204: NoContent } } },
    async (req, reply) => {
      const sha = req.params.sha;
      const deleted = deleteDataset(deps.db, sha); // throws ConflictError (409) while a queued or running run uses it
      const dir = path.join(store, sha);
      const onDisk = await fs.stat(dir).then(
        () => true,
        () => false,
      );
      if (!deleted && !onDisk) throw new NotFoundError('Dataset', sha);
      await fs.rm(dir, { recursive: true, force: true });
      return reply.status(204).send(null);
    },
  );
};

/** Files the upload by its hash and records it; an upload of stored content returns the existing row. */
async function storeUpload(session: UploadSession, name: string | undefined, deps: AppDeps) {
  const stored = await session.commit();
  const before = getDataset(deps.db, stored.sha256);
  const row = insertDataset(deps.db, {
    sha256: stored.sha256,
    name: name ?? null,
    files: stored.files.map((f) => f.file),
    bytes: stored.bytes,
    rows: Object.fromEntries(stored.files.map((f) => [f.file, f.rows])),
  });
  return { row, created: before === undefined };
}

/** With a method: the full dataset check for it. Without: the format-agnostic checks done while streaming. */
async function checkContent(
  session: UploadSession,
  fields: z.infer<typeof FIELDS>,
  deps: AppDeps,
): Promise<void> {
  if (fields.method) {
    const report: DatasetReport = await deps.inputs.validator.validate({
      dir: session.tempDir,
      mode: METHOD_INFO[fields.method].trainMode,
      batchSize: fields.batch_size,
    });
    if (!report.ok) throw new DatasetValidationError(report.problems, { ...report, dir: 'upload' });
    return;
  }
  const { problems, total } = session.problems();
  if (total > 0) {
    const files = session.storedFiles();
    throw new DatasetValidationError(problems, {
      ok: false,
      files,
      problems,
      totalProblems: total,
      problemsTruncated: total > problems.length,
    });
  }
}
