// The control plane's side of a batch of reports (a remote worker's spool sending a backlog in one call): log chunks
// and metric batches of one run, applied in order in one transaction with the same rules as one by one. Any refusal
// fails the whole batch and stores nothing; the worker then sends the reports one by one, each for its own verdict.
import type { ReportBatchAnswer } from '../contract/worker-protocol.js';
import type { Db } from '../db/client.js';
import { requireRun } from '../db/runs-repository.js';
import { withTransaction } from '../db/transaction.js';
import type { ReportBatchBody } from '../shared/report-protocol.js';
import { controlAnswer } from './attempt-reports.js';
import { logChunkReport, metricsStored, storeMetricBatch } from './data-reports.js';

export function reportBatch(db: Db, worker: string, runId: string, body: ReportBatchBody): ReportBatchAnswer {
  const results = withTransaction(db, () =>
    body.reports.map((r) =>
      r.kind === 'logs'
        ? { ...logChunkReport(db, worker, runId, r.body), stored: 0 }
        : storeMetricBatch(db, worker, runId, r.body),
    ),
  );
  // After the commit: the sweep's median rule reads the other members' series.
  body.reports.forEach((r, i) => {
    if (r.kind === 'metrics' && !results[i]!.duplicate) metricsStored(db, runId, r.body);
  });
  return {
    accepted: requireRun(db, runId).logBytes,
    stored: results.reduce((n, r) => n + r.stored, 0),
    duplicates: results.filter((r) => r.duplicate).length,
    ...controlAnswer(db, runId, body.reports.at(-1)!.body.attempt),
  };
}
