// The control plane's side of an attempt's end: the finish the worker reports, recorded once, with the retry
// policy's decision and, for an out-of-memory failure, its record and the smaller next attempt.
import path from 'node:path';

import type { Db } from '../db/client.js';
import { maxMetricValue } from '../db/metrics-repository.js';
import { finishAttempt, listAttempts, requireRun, transitionRun } from '../db/runs-repository.js';
import { withTransaction } from '../db/transaction.js';
import { ADAPTER_FILE } from '../domain/checkpoint-names.js';
import { decideRetry } from '../domain/retry-policy.js';
import type { Run } from '../domain/run.js';
import type { Config } from '../shared/config.js';
import type { FinishBody } from '../shared/report-protocol.js';
import { getAttemptRow, requireOpenAttempt } from './attempt-guard.js';
import { recordedCheckpoints } from './checkpoint-artifacts.js';
import { forgetEarlyStop } from './early-stops.js';
import { decideOnOom, type OomDecision } from './oom-decision.js';
import { retrySettings } from './retry-decisions.js';

/** The checkpoints a finished attempt leaves: the worker's own files and every uploaded one, oldest first. */
function checkpointNames(db: Db, runId: string, own: readonly string[]): string[] {
  const names = new Set([...own, ...recordedCheckpoints(db, runId).map((c) => c.name)]);
  return [...names].sort();
}

/**
 * Records how an attempt ended, once; a retried finish answers the run as it is. Retries follow the one policy; an
 * out-of-memory failure gets its record and advice, and with on_oom "reduce" a smaller next attempt (`oom`, decided
 * before the transaction because it reads the model: see finishWithOom).
 */
export function finishReport(
  db: Db,
  config: Config,
  worker: string,
  runId: string,
  body: FinishBody,
  now = Date.now(),
  oom: OomDecision | null = null,
): Run {
  return withTransaction(db, () => {
    const row = getAttemptRow(db, runId, body.attempt);
    if (row && row.worker === worker && row.finishedAt !== null) return requireRun(db, runId);
    const { run } = requireOpenAttempt(db, runId, body.attempt, worker);
    forgetEarlyStop(db, runId);
    finishAttempt(db, runId, body.attempt, {
      outcome: body.outcome,
      exitCode: body.exitCode ?? null,
      signal: body.signal ?? null,
      error: body.outcome === 'failed' ? (body.error ?? null) : null,
      finishedAt: now,
    });
    const base = {
      exitCode: body.exitCode ?? null,
      signal: body.signal ?? null,
      checkpoints: checkpointNames(db, runId, body.checkpoints),
      peakMemoryGb: maxMetricValue(db, runId, 'peak_memory_gb'),
    };
    const ended = { finishedAt: now, durationMs: now - (run.startedAt ?? now) };
    const settings = retrySettings(config);
    switch (body.outcome) {
      case 'succeeded':
        return transitionRun(
          db,
          runId,
          'running',
          'succeeded',
          { ...base, ...ended, adapterFile: path.join(run.adapterPath, ADAPTER_FILE) },
          body.reason,
        );
      case 'cancelled':
        return transitionRun(
          db,
          runId,
          'running',
          'cancelled',
          { ...base, ...ended, stopReason: body.stopReason ?? 'cancelled' },
          decideRetry('stopped', 1, settings, body.reason).reason,
        );
      case 'interrupted': {
        const d = decideRetry('interrupted', 1, settings, body.reason);
        const delayMs = d.action === 'resume' ? d.delayMs : 0;
        return transitionRun(
          db,
          runId,
          'running',
          'interrupted',
          { ...base, stopReason: body.stopReason ?? 'shutdown', notBefore: now + delayMs },
          { reason: d.reason, delayMs },
        );
      }
      case 'failed': {
        if (oom) {
          const patch = {
            ...base,
            error: oom.error,
            stopReason: body.stopReason ?? body.reason,
            outOfMemory: oom.outOfMemory,
          };
          // The policy decides whether (on_oom, reductions tried); decideOnOom made the smaller request, if one is left.
          const d = decideRetry('out_of_memory', 1, settings, 'out of memory', undefined, {
            onOom: run.request.on_oom,
            reductionsTried: run.outOfMemory?.reductions.length ?? 0,
          });
          if (d.action === 'retry' && oom.retry)
            return transitionRun(
              db,
              runId,
              'running',
              'interrupted',
              { ...patch, request: oom.retry.request, argv: oom.retry.argv },
              oom.retry.reason,
            );
          return transitionRun(
            db,
            runId,
            'running',
            'failed',
            { ...patch, ...ended },
            d.action === 'retry' ? 'out of memory; on_oom reduce: nothing left to reduce' : d.reason,
          );
        }
        // Strikes: this run's failed attempts so far, this one included.
        const strike = listAttempts(db, runId).filter((a) => a.outcome === 'failed').length;
        const d = decideRetry(
          body.retryable ? 'trainer_failure' : 'permanent',
          strike,
          settings,
          `attempt ${body.attempt} failed (${body.reason})`,
        );
        const patch = { ...base, error: body.error ?? null, stopReason: body.stopReason ?? body.reason };
        if (d.action === 'retry')
          return transitionRun(
            db,
            runId,
            'running',
            'interrupted',
            { ...patch, notBefore: now + d.delayMs },
            { reason: d.reason, delayMs: d.delayMs },
          );
        return transitionRun(db, runId, 'running', 'failed', { ...patch, ...ended }, d.reason);
      }
    }
  });
}

/**
 * finishReport for a finish that may be out of memory: the OOM record and the smaller retry are decided first (they
 * read the model's files, so not inside the transaction). `resolveData` is the control plane's own.
 */
export async function finishAttemptReport(
  db: Db,
  config: Config,
  worker: string,
  runId: string,
  body: FinishBody,
  resolveData: (data: string) => Promise<string>,
): Promise<Run> {
  let oom: OomDecision | null = null;
  const row = getAttemptRow(db, runId, body.attempt);
  if (body.outcome === 'failed' && body.outOfMemory && row?.finishedAt === null) {
    const run = requireRun(db, runId);
    const dataDir = await resolveData(run.data).catch(() => run.data);
    oom = await decideOnOom(db, config, run, body.attempt, body.outOfMemory, dataDir);
  }
  return finishReport(db, config, worker, runId, body, Date.now(), oom);
}
