// The JobReporter of the worker inside the control plane's process: each report calls the control plane's handler
// (src/reports/job-*.ts) directly, in order, on the same SQLite and disk, so its outputs are recorded where they are.
import type { Logger } from 'pino';

import { measureArtifact } from '../artifacts/artifact-files.js';
import { JobFinishBody } from '../contract/job-protocol.js';
import type { Db } from '../db/client.js';
import { StaleAttemptError } from '../reports/attempt-guard.js';
import { finishJobReport, jobArtifactReport, jobControl, jobLogReport } from '../reports/job-reports.js';
import { startJobReport } from '../reports/job-start.js';
import type { Config } from '../shared/config.js';
import type { JobAttemptReporter, JobHooks, JobReporter } from './job-reporter.js';
import { SupersededError } from './reporter.js';

export interface InProcessJobReporterDeps {
  db: Db;
  config: Config;
  logger: Logger;
}

const superseded = (e: unknown): unknown =>
  e instanceof StaleAttemptError ? new SupersededError(e.message) : e;

export function createInProcessJobReporter(deps: InProcessJobReporterDeps): JobReporter {
  const { db, config } = deps;
  const name = config.workerName;

  function attempt(jobId: string, n: number, logBytes: number, hooks: JobHooks): JobAttemptReporter {
    let offset = logBytes;
    let logs: Promise<void> = Promise.resolve();
    return {
      log(text) {
        const at = offset;
        offset += Buffer.byteLength(text, 'utf8');
        logs = logs.then(async () => {
          try {
            await jobLogReport(db, name, jobId, { attempt: n, offset: at, text });
          } catch (e) {
            if (e instanceof StaleAttemptError) hooks.onStop(e.message);
            else deps.logger.warn({ jobId, err: (e as Error).message }, 'could not write the job log');
          }
        });
      },
      async upload(target, record) {
        const measured = await measureArtifact(target);
        try {
          return await jobArtifactReport(
            db,
            config.dataDir,
            name,
            jobId,
            { ...record, ...measured, attempt: n, name: 'in-place' },
            target,
          );
        } catch (e) {
          throw superseded(e);
        }
      },
      async control() {
        try {
          return jobControl(db, name, jobId, n);
        } catch (e) {
          if (e instanceof StaleAttemptError) hooks.onStop(e.message);
          return null;
        }
      },
      async finish(body) {
        await logs;
        try {
          return finishJobReport(db, name, jobId, JobFinishBody.parse({ ...body, attempt: n }));
        } catch (e) {
          throw superseded(e);
        }
      },
      close: async () => {
        await logs;
      },
    };
  }

  return {
    sharesDisk: true,
    start: (jobId, body) => startJobReport(db, config.dataDir, name, jobId, body),
    attempt,
    fetchBlob: async () => {
      throw new Error('the in-process worker reads the run’s files in place');
    },
    fetchParentOutput: async () => {
      throw new Error('the in-process worker reads the fused model in place');
    },
  };
}
