// The worker inside the control plane's process (`npm start`, or `npm run worker` on the same DATA_DIR): the worker
// core with the in-process Reporter, plus what needs the control plane's SQLite (recovery of runs and follow-up jobs
// whose worker on this host died, the follow-up outbox).
import type { Db } from '../db/client.js';
import { getRun } from '../db/runs-repository.js';
import { runState } from '../reports/attempt-reports.js';
import { startFollowUpOutbox } from './follow-up/outbox.js';
import { createInProcessReporter } from './in-process-reporter.js';
import { reclaimRun, startRecoveryLoop } from './recovery.js';
import { startWorkerCore, type WorkerCoreDeps, type WorkerHandle } from './worker-core.js';

export type { WorkerHandle };

/** The core's dependencies, with SQLite in place of a reporter: this worker reports in-process. */
export type StartWorkerDeps = Omit<WorkerCoreDeps, 'reporter' | 'local' | 'stillAuthorized'> & { db: Db };

export async function startWorker(deps: StartWorkerDeps): Promise<WorkerHandle> {
  const { config, db, logger } = deps;
  const recovery = { db, logger, killGraceMs: config.killGraceMs };
  return startWorkerCore({
    ...deps,
    reporter: createInProcessReporter({ db, config, logger, resolveData: deps.resolveData }),
    local: {
      startRecovery: (queues, self, active, everyMs) =>
        startRecoveryLoop({ ...recovery, self, queues, margin: config.memoryMargin, active }, everyMs),
      async reclaim(runId, self, active) {
        const run = getRun(db, runId);
        if (!run) return 'owned';
        const r = await reclaimRun({ ...recovery, self, active }, run);
        return r.kind === 'owned' ? 'owned' : runState(getRun(db, runId)!);
      },
      startOutbox: (queues) => startFollowUpOutbox(db, queues, config.memoryMargin, logger),
    },
  });
}
