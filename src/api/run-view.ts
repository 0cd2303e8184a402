// The HTTP shape of a run (its schema: src/contract/runs.ts): ISO times, and its progress (src/app/run-progress.ts).
import { progressOf } from '../app/run-progress.js';
import type { RunSummary, RunView } from '../contract/runs.js';
import type { Run } from '../domain/run.js';

const iso = (ms: number | null | undefined) => (ms ? new Date(ms).toISOString() : null);

/** A run with everything recorded about it: the summary plus request, command, config and outputs. */
export function runView(run: Run): RunView {
  return {
    ...runSummaryView(run),
    error: run.error,
    request: run.request,
    argv: run.argv,
    config: run.configYaml,
    warnings: run.warnings,
    runDir: run.runDir,
    adapterPath: run.adapterPath,
    checkpoints: run.checkpoints,
    signal: run.signal,
    mlxVersion: run.mlxVersion,
    environment: run.environment,
    worker: run.worker,
    logBytes: run.logBytes,
    logLines: run.logLines,
    memory: run.memory,
    peakMemoryGb: run.peakMemoryGb,
    outOfMemory: run.outOfMemory,
  };
}

/** A run in a list: what a table row shows. The request, command and config are on GET /v1/runs/:id. */
export function runSummaryView(run: Run): RunSummary {
  return {
    id: run.id,
    name: run.name,
    method: run.method,
    trainMode: run.trainMode,
    model: run.model,
    data: run.data,
    status: run.status,
    priority: run.priority,
    tags: run.tags,
    attempt: run.attempt,
    progress: progressOf(run),
    adapterFile: run.adapterFile,
    error: run.error?.split('\n', 1)[0] ?? null,
    exitCode: run.exitCode,
    stopReason: run.stopReason,
    sweepId: run.sweepId,
    sweepIndex: run.sweepIndex,
    sweepValues: run.sweepValues,
    createdAt: new Date(run.createdAt).toISOString(),
    queuedAt: iso(run.queuedAt),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    durationMs: run.durationMs,
  };
}
