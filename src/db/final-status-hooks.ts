// The "on final status" extension point: code that runs inside the same SQLite transaction that writes a run's
// final status (succeeded, failed, cancelled), whichever process writes it.
//
// Why in the transaction: what depends on a run ending (its sweep's status, a webhook outbox row, a follow-up job
// row) must never disagree with it. Either the status and every hook's rows are committed, or none of them is.
//
// Rules for a hook:
// - synchronous, and only SQLite writes through the `db` it is given (it joins the open transaction);
// - no network, no Redis, no files, no awaits: such work is written as rows (an outbox) that a loop outside the
//   transaction delivers, e.g. the queue reconciler for follow-up jobs;
// - a hook that throws rolls the status change back, so throw only for a real inconsistency.
//
// Adding one: write the function next to the table it touches and list it in FINAL_STATUS_HOOKS below.
import type { Run } from '../domain/run.js';
import type { FinalRunStatus, RunStatus } from '../domain/run-status.js';
import type { Db } from './client.js';
import { queueFollowUpsOnFinal } from './follow-up-hook.js';
import { settleSweepOfRun } from './sweeps-repository.js';
import { enqueueFinalStatusNotices } from './webhooks-repository.js';

export interface FinalStatusEvent {
  /** The run as it is now, with its final status. */
  run: Run & { status: FinalRunStatus };
  from: RunStatus;
  at: number;
}

export type FinalStatusHook = (db: Db, event: FinalStatusEvent) => void;

/** Run in this order, after the run row and its event are written. */
export const FINAL_STATUS_HOOKS: readonly { name: string; hook: FinalStatusHook }[] = [
  // A sweep is done when its last member becomes final.
  { name: 'sweep completion', hook: (db, e) => settleSweepOfRun(db, e.run.sweepId, e.at) },
  // The rows of the follow-up jobs it triggers (`after`, and a finished sweep's `best_after`); the follow-up outbox
  // queues them. After sweep completion, which best_after reads.
  { name: 'follow-up jobs', hook: (db, e) => queueFollowUpsOnFinal(db, { run: e.run }) },
  // Notifications (webhooks, desktop): outbox rows the dispatcher sends. After sweep completion, for sweep.done.
  { name: 'notification outbox', hook: enqueueFinalStatusNotices },
];

export function runFinalStatusHooks(db: Db, event: FinalStatusEvent): void {
  for (const { hook } of FINAL_STATUS_HOOKS) hook(db, event);
}
