// The JobReporter of a worker on another Mac: a job's log and its finish go through an on-disk spool per attempt
// (report-spool.ts), sent in order and replayed after an outage or a restart; the files it made go up to the content
// store by SHA-256 (a folder as its deterministic tar, streamed) and are then recorded; its inputs come down by hash.
// Calls the worker waits for are retried while the control plane is unreachable (the Reporter's `call`).
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';

import type { Logger } from 'pino';

import { folderTarStream, measureArtifact } from '../../artifacts/artifact-files.js';
import type { JobArtifactAnswer, JobStartOutcome, JobState } from '../../contract/job-protocol.js';
import type { JobAttemptReporter, JobHooks, JobReporter } from '../job-reporter.js';
import type { AttemptHooks } from '../reporter.js';
import { RevokedError, SupersededError } from '../reporter.js';
import { type ControlPlaneClient, ControlPlaneError } from './control-plane-client.js';
import type { ReportSpool, SpoolHeader } from './report-spool.js';

export interface HttpJobReporterOptions {
  client: ControlPlaneClient;
  logger: Logger;
  /** A call retried while the control plane is unreachable; stale and revoked answers throw. */
  call<T>(what: string, fn: () => Promise<T>): Promise<T>;
  openSpool(
    key: string,
    hooks: AttemptHooks,
    onAnswer: (reports: SpoolHeader[], answer: unknown) => void,
  ): ReportSpool;
  /** Streams `from` to `to`, checking its SHA-256. */
  download(from: string, sha256: string, to: string): Promise<void>;
}

/** Log text is sent at most this often (and on finish): one spooled report per flush, not per line. */
const LOG_FLUSH_MS = 250;

export function createHttpJobReporter(o: HttpJobReporterOptions): JobReporter {
  const { client } = o;

  function attempt(jobId: string, n: number, logBytes: number, hooks: JobHooks): JobAttemptReporter {
    const base = `/v1/worker/jobs/${jobId}`;
    let finishAnswer: JobState | null = null;
    const spool = o.openSpool(
      `job-${jobId}.${n}`,
      { onStop: (s) => hooks.onStop(s.reason) },
      (reports, answer) => {
        if (reports[0]?.path === `${base}/finish`) finishAnswer = answer as JobState;
      },
    );
    /** The spool is closed once: by the finish, or by close() after a worker error. */
    let ended = false;
    let offset = logBytes;
    let pending = '';
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      clearTimeout(timer);
      timer = undefined;
      if (pending === '') return;
      spool.enqueue({ method: 'POST', path: `${base}/logs`, body: { attempt: n, offset, text: pending } });
      offset += Buffer.byteLength(pending, 'utf8');
      pending = '';
    };
    return {
      log(text) {
        pending += text;
        timer ??= setTimeout(flush, LOG_FLUSH_MS);
      },
      async upload(target, record): Promise<JobArtifactAnswer> {
        const measured = await measureArtifact(target);
        // A fresh stream for every try: a folder goes as the same deterministic tar whose hash was just taken.
        const body = async (): Promise<Readable> =>
          measured.isDir ? folderTarStream(target) : createReadStream(target);
        await o.call('upload', async () =>
          client.upload(`/v1/worker/blobs/${measured.sha256}`, await body(), measured.bytes),
        );
        return o.call('artifact', () =>
          client.json<JobArtifactAnswer>('POST', `${base}/artifacts`, {
            ...record,
            ...measured,
            attempt: n,
            name: path.basename(target),
          }),
        );
      },
      async control() {
        try {
          return await client.json<JobState>('GET', `${base}/control?attempt=${n}`);
        } catch (e) {
          if (e instanceof ControlPlaneError && (e.failure === 'stale' || e.failure === 'unauthorized'))
            hooks.onStop(e.message);
          return null;
        }
      },
      async finish(body) {
        flush();
        spool.enqueue({ method: 'POST', path: `${base}/finish`, body: { ...body, attempt: n } });
        // The job is over, so waiting is fine: it stays with this worker until the control plane has it all.
        await spool.drained();
        const { isUnauthorized, isStale } = spool;
        ended = true;
        await spool.finish();
        if (isUnauthorized) throw new RevokedError("the control plane refuses this worker's token");
        if (isStale || finishAnswer === null)
          throw new SupersededError(`attempt ${n} of job ${jobId} is over at the control plane`);
        return finishAnswer;
      },
      async close() {
        if (ended) return;
        ended = true;
        flush();
        // What is unsent keeps going in the background; a restart of the worker replays it from disk.
        void spool.drained().then(() => spool.finish());
      },
    };
  }

  return {
    sharesDisk: false,
    start: (jobId, body) =>
      o.call('job start', () => client.json<JobStartOutcome>('POST', `/v1/worker/jobs/${jobId}/start`, body)),
    attempt,
    fetchBlob: (sha256, to) => o.call('download', () => o.download(`/v1/worker/blobs/${sha256}`, sha256, to)),
    fetchParentOutput: (jobId, sha256, to) =>
      o.call('download', () => o.download(`/v1/worker/jobs/${jobId}/parent-output`, sha256, to)),
  };
}
