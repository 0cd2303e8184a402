// Turns a sweep body into queued runs: expand, validate every combination, then insert and enqueue all or none.

import type { Db } from '../db/client.js';
import { deleteRun, insertRuns } from '../db/runs-repository.js';
import { deleteSweep, insertSweep } from '../db/sweeps-repository.js';
import { withTransaction } from '../db/transaction.js';
import {
  DatasetValidationError,
  type FieldIssue,
  type FileIssue,
  RequestValidationError,
  ServiceUnavailableError,
} from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { Sweep } from '../domain/run.js';
import {
  applyValues,
  describeValues,
  expandSweep,
  parseSweepSpec,
  type SweepCombination,
  type SweepSpec,
} from '../domain/sweep-spec.js';
import { readFleet } from './admit-run.js';
import { checkRequestForRun } from './submit-follow-up.js';
import {
  assertFitsSomeWorker,
  assertQueueHasRoom,
  enqueueFirstAttempts,
  newRunRow,
  type PreparedRun,
  prepareRun,
  type SubmitDeps,
} from './submit-run.js';

export interface SubmittedSweep {
  sweep: Sweep;
  runIds: string[];
  warnings: FieldIssue[];
}

/** Creates a sweep and all its runs, or nothing: every combination is validated before anything is written. */
export async function submitSweep(body: unknown, deps: SubmitDeps): Promise<SubmittedSweep> {
  const spec = parseSweepSpec(body);
  const combos = expandSweep(spec);
  await assertQueueHasRoom(deps, combos.length);
  const prepared = await prepareAll(spec, combos, deps);
  for (const [i, req] of (spec.best_after ?? []).entries())
    checkRequestForRun(deps.config, prepared[0]!.request, req, `best_after.${i}`);
  const sweepId = newId('swp');
  const rows = prepared.map((p, i) =>
    newRunRow(p, { sweepId, sweepIndex: i, sweepValues: combos[i]!.values }),
  );
  const sweep = withTransaction(deps.db, () => {
    const created = insertSweep(deps.db, {
      id: sweepId,
      name: spec.name ?? null,
      spec: spec as unknown as Record<string, unknown>,
      metricName: spec.metric.name,
      metricGoal: spec.metric.goal,
      runCount: rows.length,
    });
    insertRuns(deps.db, rows);
    return created;
  });
  try {
    // One addBulk is one MULTI: the jobs go in together, in sweep order (equal priorities run first in, first out).
    await enqueueFirstAttempts(deps, prepared);
  } catch (e) {
    // No run may stay queued without a job behind it. Should the MULTI have reached Redis after all, its jobs
    // name runs that no longer exist, and the worker drops them (UnrecoverableError).
    undoSweep(deps.db, sweepId, prepared);
    throw new ServiceUnavailableError(
      'Redis is unreachable: no run of the sweep was queued. Try again when Redis is back.',
      { cause: e },
    );
  }
  const runWarnings = prepared
    .map((p, i) => ({ combo: combos[i]!, issues: p.warnings }))
    .filter((w) => w.issues.length > 0);
  return {
    sweep,
    runIds: prepared.map((p) => p.id),
    warnings: [...sampleWarnings(spec, combos), ...groupIssues(spec, combos.length, runWarnings)],
  };
}

/** Validates every combination as a full run request (datasets are validated once each, from the cache). */
async function prepareAll(
  spec: SweepSpec,
  combos: SweepCombination[],
  deps: SubmitDeps,
): Promise<PreparedRun[]> {
  const prepared: PreparedRun[] = [];
  const requestFailures: { combo: SweepCombination; issues: FieldIssue[] }[] = [];
  const datasetFailures: { combo: SweepCombination; problems: FileIssue[]; report: unknown }[] = [];
  // The registry is read once for the whole sweep.
  const fleet = await readFleet(deps);
  for (const combo of combos) {
    try {
      prepared.push(await prepareRun(runBody(spec, combo), deps, fleet));
    } catch (e) {
      if (e instanceof RequestValidationError) requestFailures.push({ combo, issues: e.issues });
      else if (e instanceof DatasetValidationError)
        datasetFailures.push({ combo, problems: e.problems, report: e.report });
      else throw e;
    }
  }
  const failed = requestFailures.length + datasetFailures.length;
  const summary = `${failed} of ${combos.length} combinations are invalid; nothing was created`;
  if (requestFailures.length > 0)
    throw new RequestValidationError(
      groupIssues(spec, combos.length, requestFailures),
      `${summary}: ${firstIssues(spec, combos.length, requestFailures)}`,
    );
  const first = datasetFailures[0];
  if (first) {
    const problems = first.problems.map((p) => ({
      ...p,
      message: `${p.message} (combination #${first.combo.index}: ${describeValues(first.combo.values)})`,
    }));
    throw new DatasetValidationError(problems, first.report);
  }
  // The first combination no registered worker could ever train refuses the sweep (422), naming it.
  prepared.forEach((p, i) =>
    assertFitsSomeWorker(p, `combination #${combos[i]!.index} (${describeValues(combos[i]!.values)}): `),
  );
  return prepared;
}

/** The run body of one combination; runs get a name that says where they sit in the sweep. */
function runBody(spec: SweepSpec, combo: SweepCombination): Record<string, unknown> {
  const body = applyValues(spec.base, combo.values);
  // The sweep's `after` goes to every member (after a member's own `after` from base, if any).
  if (spec.after) body.after = [...((spec.base.after as unknown[] | undefined) ?? []), ...spec.after];
  if (!('name' in combo.values)) {
    const prefix = typeof spec.base.name === 'string' ? spec.base.name : (spec.name ?? 'sweep');
    body.name = `${prefix} #${combo.index} (${describeValues(combo.values)})`.slice(0, 200);
  }
  return body;
}

/** Where a run-request issue points in the sweep body: the grid or random entry that set the field, else base. */
function sweepPath(spec: SweepSpec, issuePath: string): string {
  const varied = (p: string) =>
    issuePath === p || issuePath.startsWith(`${p}.`) || p.startsWith(`${issuePath}.`);
  const inGrid = Object.keys(spec.grid).find(varied);
  if (inGrid) return `grid.${inGrid}`;
  const inRandom = Object.keys(spec.random?.params ?? {}).find(varied);
  if (inRandom) return `random.params.${inRandom}`;
  return issuePath ? `base.${issuePath}` : 'base';
}

/**
 * One issue per (field, message): a bad grid value fails every combination it is in, and a bad base field
 * fails them all, so each issue names how many combinations it breaks and the first one, with its values.
 */
function groupIssues(
  spec: SweepSpec,
  total: number,
  failures: { combo: SweepCombination; issues: FieldIssue[] }[],
): FieldIssue[] {
  const groups = new Map<string, { path: string; message: string; first: SweepCombination; count: number }>();
  for (const { combo, issues } of failures) {
    for (const issue of issues) {
      const path = sweepPath(spec, issue.path);
      const key = `${path}\0${issue.message}`;
      const group = groups.get(key);
      // A nested field (lora_parameters.rank) keeps its own name in the message.
      const field = issue.path && !path.endsWith(issue.path) ? `${issue.path}: ` : '';
      if (group) group.count++;
      else groups.set(key, { path, message: `${field}${issue.message}`, first: combo, count: 1 });
    }
  }
  return [...groups.values()].map((g) => ({
    path: g.path,
    message: `${g.message} — in ${g.count} of ${total} combinations, first #${g.first.index} (${describeValues(g.first.values)})`,
  }));
}

function firstIssues(
  spec: SweepSpec,
  total: number,
  failures: { combo: SweepCombination; issues: FieldIssue[] }[],
): string {
  const issues = groupIssues(spec, total, failures);
  const shown = issues
    .slice(0, 3)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ');
  return issues.length > 3 ? `${shown}; and ${issues.length - 3} more` : shown;
}

function sampleWarnings(spec: SweepSpec, combos: SweepCombination[]): FieldIssue[] {
  if (!spec.random) return [];
  const gridCount = Object.values(spec.grid).reduce((n, v) => n * v.length, 1);
  const drawn = combos.length / gridCount;
  return drawn < spec.random.samples
    ? [
        {
          path: 'random.samples',
          message: `only ${drawn} distinct samples exist in random.params; the sweep has ${combos.length} runs`,
        },
      ]
    : [];
}

/** Takes back a sweep whose jobs could not be enqueued: its runs (still queued, never started) and its row. */
function undoSweep(db: Db, sweepId: string, prepared: PreparedRun[]): void {
  withTransaction(db, () => {
    for (const p of prepared) deleteRun(db, p.id);
    deleteSweep(db, sweepId);
  });
}
