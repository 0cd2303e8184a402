// What a worker does beside training, by where it runs: the jobs it runs now (ActiveJobs, which keeps its registry
// entry current), the duties only the worker inside the control plane's process has (LocalDuties: recovery from
// SQLite, follow-up jobs, the outbox), and what a remote worker does with a follow-up job instead (hands it back).
import { DelayedError, type Job, type Queue } from 'bullmq';
import type { Logger } from 'pino';

import type { RunState } from '../shared/report-protocol.js';
import type { RunQueues } from '../shared/run-queues.js';
import type { WorkerIdentity } from './run-lease.js';

/** The jobs this worker runs now, by run or follow-up id; `changed` is called when one starts or ends. */
export class ActiveJobs extends Map<string, AbortController> {
  constructor(private readonly changed: () => void) {
    super();
  }

  override set(key: string, value: AbortController): this {
    super.set(key, value);
    this.changed?.();
    return this;
  }

  override delete(key: string): boolean {
    const had = super.delete(key);
    if (had) this.changed();
    return had;
  }
}

export type FollowUp = (payload: { jobId: string }, job: Job, token: string | undefined) => Promise<unknown>;

/** What only the worker inside the control plane's process does (it shares its SQLite and DATA_DIR). */
export interface LocalDuties {
  /** Recovers runs (and follow-up jobs) of dead workers on this host, now and every stalled interval. */
  startRecovery(
    queues: RunQueues,
    self: WorkerIdentity,
    active: ReadonlyMap<string, unknown>,
    everyMs: number,
  ): { first: Promise<void>; stop(): Promise<void> };
  /** Takes over a run whose worker on this host died (see process-run.ts). */
  reclaim(
    runId: string,
    self: WorkerIdentity,
    active: ReadonlyMap<string, unknown>,
  ): Promise<'owned' | RunState>;
  /** The follow-up jobs' handler (evaluate, samples, fuse, export: they read and write SQLite). */
  followUp(
    self: WorkerIdentity,
    active: Map<string, AbortController>,
    shutdown: AbortSignal,
    queue: Queue,
  ): FollowUp;
  /** Queues follow-up jobs written by final-status hooks. */
  startOutbox(queue: Queue): { stop(): Promise<void> };
}

/** The delay after which a follow-up job a remote worker took goes back for the control plane's worker. */
const FOLLOW_UP_HANDBACK_MS = 5000;

/** A remote worker's follow-up handler: follow-up jobs read and write the control plane's SQLite, so the worker in its process runs them. */
export function handFollowUpBack(logger: Logger): FollowUp {
  return async (_payload, job, token) => {
    logger.info({ jobId: job.id }, "a follow-up job runs on the control plane's worker; handing it back");
    await job.moveToDelayed(Date.now() + FOLLOW_UP_HANDBACK_MS, token);
    throw new DelayedError();
  };
}
