// The one builder of a new run's row from a checked request and its command; the repository adds status and times.
import type { BuiltCommand } from './build-command.js';
import type { FieldIssue } from './errors.js';
import { METHOD_INFO } from './methods.js';
import type { NewRun } from './run.js';
import type { RunMemory } from './run-memory.js';
import type { RunRequest } from './run-request.js';

export interface RunToCreate {
  id: string;
  request: RunRequest;
  warnings: FieldIssue[];
  runDir: string;
  command: Pick<BuiltCommand, 'argv' | 'configYaml' | 'adapterPath'>;
  /** The memory estimate against the workers, when one was made. */
  memory?: { memory: RunMemory | null };
  /** Iterations expected from the request (iters, or epochs over the train rows); null when unknown. */
  progressTotal?: number | null;
}

export type NewRunExtras = Pick<
  NewRun,
  'idempotencyKey' | 'sweepId' | 'sweepIndex' | 'sweepValues' | 'createdAt'
>;

export function newRunRow(p: RunToCreate, extra: NewRunExtras = {}): NewRun {
  const { request } = p;
  return {
    id: p.id,
    name: request.name ?? null,
    method: request.method,
    trainMode: METHOD_INFO[request.method].trainMode,
    model: request.model,
    data: request.data,
    priority: request.priority,
    tags: request.tags,
    request,
    argv: p.command.argv,
    configYaml: p.command.configYaml,
    warnings: p.warnings,
    runDir: p.runDir,
    adapterPath: p.command.adapterPath,
    datasetSha: request.data.startsWith('dataset:') ? request.data.slice('dataset:'.length) : null,
    memory: p.memory?.memory ?? null,
    progressTotal: p.progressTotal ?? null,
    ...extra,
  };
}
