// What a worker does beside training, by where it runs: the jobs it runs now (ActiveJobs, which keeps its registry
// entry current), and the duties only the worker inside the control plane's process has (LocalDuties: recovery from
// SQLite, the follow-up outbox). Follow-up jobs themselves run on every worker (follow-up/process-follow-up.ts).

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
  /** Queues follow-up jobs written by final-status hooks. */
  startOutbox(queues: RunQueues): { stop(): Promise<void> };
}
