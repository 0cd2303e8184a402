// The Reporter of a worker on another Mac: reports of an attempt go into its on-disk spool (report-spool.ts) and are
// sent in order, so training never waits on the control plane and nothing is lost while it is down; files go up to
// the content-addressed store in the background; calls the worker must wait for (start, finish) are retried until
// the control plane answers. A stale answer stops the trainer; a 401 means this worker was revoked.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import type { Logger } from 'pino';

import { hashFile } from '../../shared/file-hash.js';
import type { ControlAnswer, RunState, StartOutcome, StopSignal } from '../../shared/report-protocol.js';
import {
  type AttemptHooks,
  type AttemptReporter,
  type Reporter,
  RevokedError,
  type RunInputs,
  SupersededError,
} from '../reporter.js';
import { type ControlPlaneClient, ControlPlaneError } from './control-plane-client.js';
import { createHttpJobReporter } from './http-job-reporter.js';
import { ReportSpool, type SpoolHeader } from './report-spool.js';
import { reportBatchKey, spoolSender } from './spool-transport.js';

export interface HttpReporterOptions {
  client: ControlPlaneClient;
  workerName: string;
  /** Where spools live (DATA_DIR/spool): one per attempt, replayed after a restart of the worker. */
  spoolDir: string;
  logger: Logger;
  /** The control plane refused the token: the worker stops taking work. */
  onUnauthorized(reason: string): void;
  retryMinMs?: number;
  retryMaxMs?: number;
}

export function createHttpReporter(o: HttpReporterOptions): Reporter {
  const { client } = o;
  let closed = false;
  const replays = new Set<Promise<void>>();
  const retryMin = o.retryMinMs ?? 200;
  const retryMax = o.retryMaxMs ?? 5000;

  /** A call the worker waits for: retried (jittered, exponential) while the control plane is unreachable. */
  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let failures = 0; ; failures++) {
      try {
        return await fn();
      } catch (e) {
        const err = e instanceof ControlPlaneError ? e : new ControlPlaneError('retry', (e as Error).message);
        if (err.failure === 'stale') throw new SupersededError(err.message);
        if (err.failure === 'unauthorized') {
          o.onUnauthorized(err.message);
          throw new RevokedError(err.message);
        }
        if (err.failure === 'refused' || closed) throw err;
        if (failures === 0)
          o.logger.warn({ err: err.message }, `control plane unreachable (${what}); retrying`);
        await sleep(Math.min(retryMax, retryMin * 2 ** failures) * (0.5 + Math.random() / 2));
      }
    }
  }

  function openSpool(
    key: string,
    hooks?: AttemptHooks,
    onAnswer?: (reports: SpoolHeader[], answer: unknown) => void,
  ): ReportSpool {
    return new ReportSpool({
      dir: o.spoolDir,
      key,
      log: o.logger,
      retryMinMs: retryMin,
      retryMaxMs: retryMax,
      send: spoolSender(client),
      batchKey: reportBatchKey,
      onStale: (err) => hooks?.onStop({ stopReason: 'superseded', reason: err.message }),
      onUnauthorized: (err) => {
        hooks?.onStop({ stopReason: 'superseded', reason: err.message });
        o.onUnauthorized(err.message);
      },
      onAnswer,
    });
  }

  /** Spools an earlier process left (it died, or stopped while the control plane was down) are sent, then removed. */
  for (const key of ReportSpool.leftovers(o.spoolDir)) {
    const spool = openSpool(key);
    o.logger.info({ spool: key, pendingBytes: spool.pending }, 'replaying the reports of an earlier process');
    const p = spool.drained().then(() => spool.finish());
    replays.add(p);
    void p.finally(() => replays.delete(p));
  }

  function attempt(runId: string, n: number, hooks: AttemptHooks): AttemptReporter {
    const base = `/v1/worker/runs/${runId}`;
    let finishAnswer: RunState | null = null;
    const spool = openSpool(`${runId}.${n}`, hooks, (reports, answer) => {
      // A metrics call (alone or in a batch) carries the control answer: a stop rides on it.
      if (reports.some((r) => r.path === `${base}/metrics`)) {
        const stop = (answer as { stop?: StopSignal | null } | undefined)?.stop;
        if (stop) hooks.onStop(stop);
      } else if (reports[0]?.path === `${base}/finish`) finishAnswer = answer as RunState;
    });
    let uploads: Promise<void> = Promise.resolve();
    const enqueue = (sub: string, body: object) =>
      spool.enqueue({ method: 'POST', path: `${base}/${sub}`, body: { ...body, attempt: n } });
    const stopped = () => spool.isStale;
    return {
      logs: (chunk) => enqueue('logs', chunk),
      metrics: (points) =>
        enqueue('metrics', {
          points: points.map((p) => ({ ...p, value: Number.isFinite(p.value) ? p.value : null })),
        }),
      event: (message) => enqueue('events', { message }),
      upload(file, record) {
        uploads = uploads.then(async () => {
          if (stopped()) return;
          try {
            // The bytes go up first (retried while the control plane is down); the record follows the reports before it.
            const { sha256, bytes } = await hashFile(file);
            await call('upload', () =>
              client.upload(`/v1/worker/blobs/${sha256}`, createReadStream(file), bytes),
            );
            enqueue('artifacts', { ...record, sha256, bytes });
          } catch (e) {
            if (e instanceof SupersededError) {
              hooks.onStop({ stopReason: 'superseded', reason: e.message });
              return;
            }
            if (e instanceof RevokedError) return;
            // An upload that fails for good leaves the file on this Mac: the run goes on.
            o.logger.warn({ err: (e as Error).message, file }, 'could not upload a file of the run');
          }
        });
      },
      async control(): Promise<ControlAnswer | null> {
        try {
          return await client.json<ControlAnswer>('GET', `${base}/control?attempt=${n}`);
        } catch (e) {
          if (e instanceof ControlPlaneError && e.failure === 'stale')
            hooks.onStop({ stopReason: 'superseded', reason: e.message });
          if (e instanceof ControlPlaneError && e.failure === 'unauthorized') {
            hooks.onStop({ stopReason: 'superseded', reason: e.message });
            o.onUnauthorized(e.message);
          }
          return null;
        }
      },
      async finish(body) {
        await uploads;
        enqueue('finish', body);
        // Training is over, so waiting is fine: the job stays with this worker until the control plane has it all.
        await spool.drained();
        const unauthorized = spool.isUnauthorized;
        const stale = spool.isStale;
        await spool.finish();
        if (unauthorized) throw new RevokedError("the control plane refuses this worker's token");
        if (stale || finishAnswer === null)
          throw new SupersededError(`attempt ${n} of run ${runId} is over at the control plane`);
        return finishAnswer;
      },
      async close() {
        await uploads;
        // What is unsent keeps going in the background; a restart of the worker replays it from disk.
        const p = spool.drained().then(() => spool.finish());
        replays.add(p);
        void p.finally(() => replays.delete(p));
      },
    };
  }

  return {
    workerName: o.workerName,
    async inputs(runId): Promise<RunInputs | null> {
      try {
        return await call('inputs', () => client.json<RunInputs>('GET', `/v1/worker/runs/${runId}/inputs`));
      } catch (e) {
        if (e instanceof ControlPlaneError && e.status === 404) return null;
        throw e;
      }
    },
    start: (body) => call('start', () => client.json<StartOutcome>('POST', '/v1/worker/attempts', body)),
    attempt,
    async workerError(runId, body) {
      try {
        return await call('error', () =>
          client.json<RunState>('POST', `/v1/worker/runs/${runId}/error`, body),
        );
      } catch (e) {
        if (e instanceof ControlPlaneError && e.status === 404) return null;
        throw e;
      }
    },
    note: async (runId, message) => {
      await call('note', () =>
        client.json('POST', `/v1/worker/runs/${runId}/events`, { attempt: null, message }),
      );
    },
    download: (sha256, to) => call('download', () => downloadBlob(client, sha256, to)),
    jobs: createHttpJobReporter({
      client,
      logger: o.logger,
      call,
      openSpool,
      download: (from, sha256, to) => downloadBlob(client, sha256, to, from),
    }),
    async close() {
      closed = true;
      // Replays get a moment to finish; what is left stays on disk for the next start.
      await Promise.race([Promise.all(replays), sleep(1000)]);
      client.close();
    },
  };
}

/** Streams blob `sha256` (or the bytes at `from`) to a temp file beside `to`, checks the hash, renames it into place. */
async function downloadBlob(
  client: ControlPlaneClient,
  sha256: string,
  to: string,
  from = `/v1/worker/blobs/${sha256}`,
): Promise<void> {
  const temp = path.join(path.dirname(to), `.incoming-${randomBytes(6).toString('hex')}`);
  try {
    const res = await client.download(from);
    const hash = createHash('sha256');
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        hash.update(chunk);
        done(null, chunk);
      },
    });
    await pipeline(res, tap, createWriteStream(temp, { flags: 'wx' }));
    const got = hash.digest('hex');
    if (got !== sha256) throw new ControlPlaneError('retry', `blob ${sha256} arrived as ${got}`);
    await fs.rename(temp, to);
  } finally {
    await fs.rm(temp, { force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
