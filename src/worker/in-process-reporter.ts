// The Reporter of the worker that runs inside the control plane's process (`npm start`, `npm run worker` without
// SERVER_URL): each report calls the control plane's handler (src/reports) directly, in order, on the same SQLite.
import type { Logger } from 'pino';

import type { Db } from '../db/client.js';
import { getRun } from '../db/runs-repository.js';
import { StaleAttemptError } from '../reports/attempt-guard.js';
import {
  controlAnswer,
  finishAttemptReport,
  runEventReport,
  runState,
  startAttemptReport,
  workerErrorReport,
} from '../reports/attempt-reports.js';
import { putBlobFromFile } from '../reports/blob-store.js';
import { artifactReport, logChunkReport, metricBatchReport } from '../reports/data-reports.js';
import type { Config } from '../shared/config.js';
import { finishBody } from '../shared/report-protocol.js';
import { createInProcessJobReporter } from './in-process-job-reporter.js';
import type { AttemptHooks, AttemptReporter, Reporter } from './reporter.js';
import { SupersededError } from './reporter.js';

export interface InProcessReporterDeps {
  db: Db;
  config: Config;
  logger: Logger;
  /** The control plane's own data resolver (for an out-of-memory retry's command). */
  resolveData: (data: string) => Promise<string>;
}

/** Turns the control plane's "stale attempt" into the worker's SupersededError; other errors pass unchanged. */
function asWorkerError(e: unknown): unknown {
  return e instanceof StaleAttemptError ? new SupersededError(e.message) : e;
}

export function createInProcessReporter(deps: InProcessReporterDeps): Reporter {
  const { db, config } = deps;
  const name = config.workerName;

  function attempt(runId: string, n: number, hooks: AttemptHooks): AttemptReporter {
    const log = deps.logger.child({ runId, attempt: n });
    let uploads: Promise<void> = Promise.resolve();
    /** Reports of a superseded attempt are dropped; the trainer is told to stop. */
    const guard = <T>(fn: () => T): T | undefined => {
      try {
        return fn();
      } catch (e) {
        if (!(e instanceof StaleAttemptError)) throw e;
        hooks.onStop({ stopReason: 'superseded', reason: e.message });
        return undefined;
      }
    };
    const checkStop = () => {
      const answer = controlAnswer(db, runId, n);
      if (answer.stop) hooks.onStop(answer.stop);
    };
    return {
      logs: (chunk) => void guard(() => logChunkReport(db, name, runId, { ...chunk, attempt: n })),
      metrics: (points) =>
        guard(() => {
          metricBatchReport(db, name, runId, { attempt: n, points: [...points] });
          checkStop();
        }),
      event: (message) => guard(() => runEventReport(db, name, runId, { attempt: n, message })),
      upload(file, record) {
        uploads = uploads.then(async () => {
          try {
            const { sha256, bytes } = await putBlobFromFile(config.dataDir, file);
            await artifactReport(db, config.dataDir, name, runId, { ...record, attempt: n, sha256, bytes });
          } catch (e) {
            if (e instanceof StaleAttemptError) {
              hooks.onStop({ stopReason: 'superseded', reason: e.message });
              return;
            }
            // An upload that fails leaves the file on this disk: the run goes on; a resume elsewhere uses an older one.
            log.warn({ err: (e as Error).message, file }, 'could not store a file of the run');
          }
        });
      },
      control: async () => controlAnswer(db, runId, n),
      async finish(body) {
        await uploads;
        try {
          return runState(
            await finishAttemptReport(
              db,
              config,
              name,
              runId,
              finishBody.parse({ ...body, attempt: n }),
              deps.resolveData,
            ),
          );
        } catch (e) {
          throw asWorkerError(e);
        }
      },
      close: async () => {
        await uploads;
      },
    };
  }

  return {
    workerName: name,
    inputs: async (runId) => {
      const run = getRun(db, runId);
      return run
        ? {
            status: run.status,
            data: run.data,
            datasetSha: run.datasetSha,
            request: run.request,
            memory: run.memory,
          }
        : null;
    },
    start: async (body) => {
      try {
        return startAttemptReport(db, name, body);
      } catch (e) {
        throw asWorkerError(e);
      }
    },
    attempt,
    workerError: async (runId, body) => {
      try {
        const run = workerErrorReport(db, config, name, runId, body);
        return run ? runState(run) : null;
      } catch (e) {
        throw asWorkerError(e);
      }
    },
    note: async (runId, message) => runEventReport(db, name, runId, { attempt: null, message }),
    download: async () => {
      // The local worker shares the run folder with the control plane: every uploaded file is already in place.
      throw new Error('the in-process worker reads uploaded files in place');
    },
    jobs: createInProcessJobReporter(deps),
    close: async () => undefined,
  };
}
