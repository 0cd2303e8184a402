// The control plane's side of what an attempt produces: log chunks by byte offset, metric batches and artifact
// records. A chunk or batch sent twice is stored once; a report from a superseded attempt is refused.
import fs from 'node:fs/promises';
import path from 'node:path';

import type { LogChunkAnswer } from '../contract/worker-protocol.js';
import { listArtifactsOfRun } from '../db/artifacts-repository.js';
import type { Db } from '../db/client.js';
import { appendLogLines, deleteLogRange } from '../db/logs-repository.js';
import { insertMetrics } from '../db/metrics-repository.js';
import { perDb } from '../db/per-db.js';
import { requireRun, updateRunProgress } from '../db/runs-repository.js';
import { withTransaction } from '../db/transaction.js';
import { ConflictError } from '../domain/errors.js';
import type { ArtifactBody, LogChunkBody, MetricBatchBody } from '../shared/report-protocol.js';
import { getAttemptRow, requireOpenAttempt } from './attempt-guard.js';
import { hasBlob } from './blob-store.js';
import { placeRunFile, recordCheckpoint } from './checkpoint-artifacts.js';
import { earlyStopOnMetrics } from './early-stops.js';

/**
 * Appends a chunk at its byte offset. A chunk ending at or before what is held was applied before (a retry or a
 * replay) and changes nothing; one starting past it would leave a hole and is refused (409) so the worker resends
 * from the offset it is told.
 */
export function logChunkReport(db: Db, worker: string, runId: string, body: LogChunkBody): LogChunkAnswer {
  return withTransaction(db, () => {
    const held = requireRun(db, runId).logBytes;
    const end = body.offset + body.bytes;
    if (end < held || (end === held && body.bytes > 0)) return { accepted: held, duplicate: true };
    const { run } = requireOpenAttempt(db, runId, body.attempt, worker);
    if (body.offset > held)
      throw new ConflictError(
        `log gap: the control plane holds ${held} bytes of run ${runId}, the chunk starts at ${body.offset}`,
      );
    appendLogLines(db, runId, body.lines);
    if (body.trim) deleteLogRange(db, runId, body.trim.afterSeq, body.trim.beforeSeq);
    const counted = body.lineCount ?? body.lines.length;
    updateRunProgress(db, runId, {
      ...definedProgress(body.progress),
      logBytes: end,
      logLines: run.logLines + counted,
    });
    return { accepted: end, duplicate: false };
  });
}

function definedProgress(p: LogChunkBody['progress']) {
  if (!p) return {};
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as NonNullable<
    LogChunkBody['progress']
  >;
}

/**
 * Stores a batch of points (each (attempt, name, split, iteration) once: a repeat overwrites with the same value).
 * A batch replayed after its attempt ended is accepted when every point is already there, refused otherwise.
 */
export function metricBatchReport(
  db: Db,
  worker: string,
  runId: string,
  body: MetricBatchBody,
): { stored: number; duplicate: boolean } {
  const answer = storeMetricBatch(db, worker, runId, body);
  // After the commit: the sweep's median rule reads the other members' series.
  if (!answer.duplicate) metricsStored(db, runId, body);
  return answer;
}

/** The stores of metricBatchReport, in one transaction (or the caller's); call metricsStored after the commit. */
export function storeMetricBatch(
  db: Db,
  worker: string,
  runId: string,
  body: MetricBatchBody,
): { stored: number; duplicate: boolean } {
  return withTransaction(db, () => {
    const row = getAttemptRow(db, runId, body.attempt);
    if (row?.worker === worker && row.finishedAt !== null && allStored(db, runId, body))
      return { stored: 0, duplicate: true };
    requireOpenAttempt(db, runId, body.attempt, worker);
    return { stored: insertMetrics(db, runId, body.attempt, body.points), duplicate: false };
  });
}

/** A batch was stored (and committed): the sweep's median rule sees it. */
export function metricsStored(db: Db, runId: string, body: MetricBatchBody): void {
  earlyStopOnMetrics(
    db,
    runId,
    body.attempt,
    body.points.map((p) => ({ ...p, value: p.value ?? Number.NaN })),
  );
}

const hasPoint = perDb((db) =>
  db.$client
    .prepare<[string, number, number, string, string], number>(
      'SELECT 1 FROM metrics WHERE run_id = ? AND attempt = ? AND iteration = ? AND split = ? AND name = ?',
    )
    .pluck(),
);

function allStored(db: Db, runId: string, body: MetricBatchBody): boolean {
  const stmt = hasPoint(db);
  return body.points.every((p) => stmt.get(runId, body.attempt, p.iteration, p.split, p.name) !== undefined);
}

/**
 * Records a file the worker uploaded (its bytes already in the blob store): placed into the run's adapter folder on
 * the control plane, and a checkpoint recorded as an artifact. A replayed record changes nothing.
 */
export async function artifactReport(
  db: Db,
  dataDir: string,
  worker: string,
  runId: string,
  body: ArtifactBody,
): Promise<{ path: string }> {
  if (!(await hasBlob(dataDir, body.sha256)))
    throw new ConflictError(
      `blob ${body.sha256} is not in the store: PUT /v1/worker/blobs/${body.sha256} first`,
    );
  const run = requireRun(db, runId);
  const file = path.join(run.adapterPath, body.name);
  const row = getAttemptRow(db, runId, body.attempt);
  const ended = row?.worker === worker && row.finishedAt !== null;
  if (!(ended && (await alreadyPlaced(db, runId, file, body))))
    requireOpenAttempt(db, runId, body.attempt, worker);
  await placeRunFile(dataDir, run, body.name, body.sha256, body.bytes);
  if (body.kind === 'checkpoint') recordCheckpoint(db, runId, file, body.sha256, body.bytes);
  return { path: file };
}

/** A record replayed after its attempt ended: accepted when it is already in place (nothing would change). */
async function alreadyPlaced(db: Db, runId: string, file: string, body: ArtifactBody): Promise<boolean> {
  if (body.kind === 'checkpoint')
    return listArtifactsOfRun(db, runId).some((a) => a.path === file && a.sha256 === body.sha256);
  return (await fs.stat(file).catch(() => undefined))?.size === body.bytes;
}
