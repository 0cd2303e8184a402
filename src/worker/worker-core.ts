// Wires a BullMQ Worker (concurrency 1) to the job handlers, for the local and the remote worker alike: takes jobs
// only while its trainer check passes (re-checked every PREFLIGHT_RECHECK_S and on recheck()), keeps its registry
// entry fresh, listens for cancel signals, reports through its Reporter, and shuts down cleanly (wait for the
// training, or stop it and re-queue it). What only a worker in the control plane's process does (recover runs of
// dead workers on this host from SQLite, follow-up jobs) comes in `local`; this module loads no SQLite or server code.
import { DelayedError, type Job, type Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { Config } from '../shared/config.js';
import type { RunState } from '../shared/report-protocol.js';
import { probeMlxLmVersion, writeMlxLmVersion } from '../shared/mlx-lm-version.js';
import { cancelChannel, createRunsQueue, RUNS_QUEUE, WORKER_LOCK, type WorkerLockOptions } from '../shared/queue.js';
import { withDeadline } from '../shared/shutdown.js';
import { killGroup } from './execute.js';
import { createDispatcher } from './job-handlers.js';
import { type Preflight, preflightMlx } from './preflight.js';
import { createTrainHandler } from './process-run.js';
import type { Reporter, RevokedError } from './reporter.js';
import { workerIdentity } from './run-lease.js';
import { startHeartbeat } from './worker-heartbeat.js';

export interface WorkerHandle {
  worker: Worker;
  /** The latest trainer check; `error` set means this worker takes no job. */
  preflight: Preflight;
  active: Map<string, AbortController>;
  /** Process groups of the trainers this worker runs now (stopped by a forced exit too). */
  trainers: Set<number>;
  /** Checks the trainer again now (SIGHUP); starts or pauses taking jobs accordingly. */
  recheck(): Promise<Preflight>;
  /** SIGKILLs every running trainer's process group: the last thing a forced exit does. */
  killTrainers(): void;
  /** The control plane refused this worker's token: stop the training and take no more jobs. */
  revoke(reason: string): void;
  /** Stop taking jobs; 'wait' lets the running training finish, 'requeue' stops it for a later resume. */
  close(mode?: 'wait' | 'requeue'): Promise<void>;
}

/** A Redis step of the shutdown gets this long; Redis answers in milliseconds when it is there at all. */
const REDIS_STEP_MS = 1000;

type FollowUp = (payload: { jobId: string }, job: Job, token: string | undefined) => Promise<unknown>;

/** What only the worker inside the control plane's process does (it shares its SQLite and DATA_DIR). */
export interface LocalDuties {
  /** Recovers runs of dead workers on this host, now and every stalled interval. */
  startRecovery(queue: Queue, active: ReadonlyMap<string, unknown>, everyMs: number): { first: Promise<void>; stop(): Promise<void> };
  /** Takes over a run whose worker on this host died (see process-run.ts). */
  reclaim(runId: string, active: ReadonlyMap<string, unknown>): Promise<'owned' | RunState>;
  /** The follow-up jobs' handler (evaluate, samples, fuse, export: they read and write SQLite). */
  followUp(active: Map<string, AbortController>, shutdown: AbortSignal): FollowUp;
  /** Queues follow-up jobs written by final-status hooks. */
  startOutbox(queue: Queue): { stop(): Promise<void> };
}

export interface WorkerCoreDeps {
  config: Config;
  reporter: Reporter;
  local?: LocalDuties;
  /** A remote worker asks this on each heartbeat: false once its token is revoked (it stops taking work). */
  stillAuthorized?: () => Promise<boolean>;
  logger: Logger;
  /** Two connections: one for the worker (blocking), one subscribed to cancel signals. */
  connection: Redis;
  subscriber: Redis;
  resolveData: (data: string) => Promise<string>;
  trainerEnv?: Record<string, string>;
  lock?: Partial<WorkerLockOptions>;
}

/** The delay after which a follow-up job a remote worker took goes back for the control plane's worker. */
const FOLLOW_UP_HANDBACK_MS = 5000;

export async function startWorkerCore(deps: WorkerCoreDeps): Promise<WorkerHandle> {
  const { config, logger } = deps;
  // One object, updated in place by re-checks: the handler and the registry entry read it.
  const preflight: Preflight = await preflightMlx(config.mlxPython, deps.trainerEnv);
  logPreflight(logger, preflight);
  // The API refuses GGUF exports on mlx-lm versions whose writer is broken: it reads what this worker found.
  const mlxLm = await probeMlxLmVersion(config.mlxPython, deps.trainerEnv);
  await writeMlxLmVersion(config.dataDir, mlxLm, config.workerName).catch((err: unknown) => logger.warn({ err }, 'could not record the mlx-lm version'));
  const self = await workerIdentity(config.workerName);
  const active = new Map<string, AbortController>();
  const trainers = new Set<number>();
  const shutdown = new AbortController();
  let stopping = false;
  let revoked: string | null = null;
  const lock = { ...WORKER_LOCK, lockDuration: config.lockDurationMs, stalledInterval: config.stalledIntervalMs, ...deps.lock };

  const heartbeat = startHeartbeat({
    redis: deps.connection,
    prefix: config.queuePrefix,
    heartbeatMs: config.workerHeartbeatMs,
    logger,
    snapshot: () => {
      const runId = active.keys().next().value ?? null;
      const state = stopping ? 'stopping' : revoked || preflight.error ? 'unusable' : runId ? 'training' : 'idle';
      return { name: deps.reporter.workerName, versions: preflight.versions, state, runId, reason: revoked ?? preflight.error };
    },
  });

  // Before taking jobs: runs a dead worker of this host left running are interrupted and their next attempts queued.
  const queue = createRunsQueue(deps.connection, config.queuePrefix);
  // Its connection is the worker's, whose errors the process already logs; unhandled, BullMQ prints them raw.
  queue.on('error', (err) => logger.debug({ err: err.message }, 'recovery queue error'));
  const recovery = deps.local?.startRecovery(queue, active, lock.stalledInterval);
  await recovery?.first;

  const channel = cancelChannel(config.queuePrefix);
  await deps.subscriber.subscribe(channel);
  const onCancel = (ch: string, runId: string) => {
    if (ch === channel) active.get(runId)?.abort('cancelled');
  };
  deps.subscriber.on('message', onCancel);

  // Revoked: no more jobs; the run it trained is handed to another worker by the control plane.
  const ref: { worker?: Worker } = {};
  const onRevoked = (error: RevokedError | string) => {
    if (revoked) return;
    revoked = typeof error === 'string' ? error : error.message;
    logger.error({ reason: revoked }, 'this worker was revoked: it takes no more jobs');
    void ref.worker?.pause(true).catch((err: unknown) => logger.warn({ err }, 'pausing the worker failed'));
    for (const c of active.values()) c.abort('cancelled');
    void heartbeat.beat();
  };
  const train = createTrainHandler({
    ...deps,
    config: { ...config, stalledIntervalMs: lock.stalledInterval },
    preflight,
    active,
    trainers,
    self,
    shutdown: shutdown.signal,
    queue,
    onRevoked,
    reclaim: deps.local ? (runId) => deps.local!.reclaim(runId, active) : undefined,
  });
  const followUp: FollowUp = deps.local?.followUp(active, shutdown.signal) ?? (async (_payload, job, token) => {
    // Follow-up jobs read and write the control plane's SQLite: the worker in its process runs them.
    logger.info({ jobId: job.id }, 'a follow-up job runs on the control plane\'s worker; handing it back');
    await job.moveToDelayed(Date.now() + FOLLOW_UP_HANDBACK_MS, token);
    throw new DelayedError();
  });
  // Follow-up jobs (evaluate, samples, fuse, export) share the queue, so one GPU job runs at a time.
  const processor = createDispatcher({ train, evaluate: followUp, samples: followUp, fuse: followUp, export: followUp });
  // autorun off: a worker whose trainer cannot start takes no job at all; it starts once a check passes.
  const worker = new Worker(RUNS_QUEUE, processor, { connection: deps.connection, prefix: config.queuePrefix, concurrency: 1, autorun: false, ...lock });
  ref.worker = worker;
  worker.on('error', (err) => logger.error({ err: err.message }, 'worker error'));
  worker.on('stalled', (jobId) => logger.warn({ jobId }, 'job stalled: its worker stopped renewing the lock'));
  for (const event of ['active', 'completed', 'failed'] as const) worker.on(event, () => void heartbeat.beat());
  await worker.waitUntilReady();
  const outbox = deps.local?.startOutbox(queue);
  const authTimer = deps.stillAuthorized
    ? setInterval(() => {
        deps.stillAuthorized!().then((ok) => ok || onRevoked('the control plane refuses this worker\'s token (revoked)'), () => undefined);
      }, config.workerHeartbeatMs)
    : undefined;
  authTimer?.unref();

  let running = false;
  const applyUsability = () => {
    if (stopping || revoked) return;
    if (preflight.error) {
      if (running && !worker.isPaused()) void worker.pause(true).catch((err: unknown) => logger.warn({ err }, 'pausing the worker failed'));
    } else if (!running) {
      running = true;
      worker.run().catch((err: unknown) => logger.error({ err }, 'the worker stopped taking jobs'));
    } else if (worker.isPaused()) void worker.resume();
    void heartbeat.beat();
  };
  // One check at a time: a check that started before a fix must not land after one that started after it.
  let checking: Promise<Preflight> | null = null;
  const recheck = () =>
    (checking ??= preflightMlx(config.mlxPython, deps.trainerEnv)
      .then((fresh) => {
        Object.assign(preflight, fresh);
        logPreflight(logger, preflight);
        applyUsability();
        return { ...preflight };
      })
      .finally(() => (checking = null)));
  // Only a failing worker re-checks on its own: a working one's trainer is proven by every run it starts.
  const recheckTimer = setInterval(() => {
    if (preflight.error) recheck().catch((err: unknown) => logger.error({ err }, 'trainer re-check failed'));
  }, config.preflightRecheckMs);
  recheckTimer.unref();
  applyUsability();

  return {
    worker,
    preflight,
    active,
    trainers,
    recheck,
    revoke: (reason) => onRevoked(reason),
    killTrainers: () => {
      for (const pid of trainers) killGroup(pid, 'SIGKILL');
    },
    async close(mode = config.shutdownMode) {
      stopping = true;
      clearInterval(recheckTimer);
      clearInterval(authTimer);
      void heartbeat.beat();
      // A recovery pass or a registry write can hang on an unreachable Redis: neither may hold the shutdown up.
      if (recovery) await withDeadline(recovery.stop(), REDIS_STEP_MS);
      if (outbox) await withDeadline(outbox.stop(), REDIS_STEP_MS);
      const closing = worker.close();
      if (mode === 'requeue') shutdown.abort();
      // Past the deadline a 'wait' shutdown stops the training too (it resumes on the next start).
      const deadline = setTimeout(() => shutdown.abort(), config.shutdownDeadlineMs);
      try {
        await closing;
      } finally {
        clearTimeout(deadline);
        deps.subscriber.off('message', onCancel);
        await withDeadline(deps.subscriber.unsubscribe(channel), REDIS_STEP_MS).catch((err: unknown) => logger.warn({ err }, 'unsubscribe failed'));
        await withDeadline(heartbeat.stop(true), REDIS_STEP_MS);
        await withDeadline(queue.close(), REDIS_STEP_MS).catch((err: unknown) => logger.warn({ err }, 'closing the recovery queue failed'));
        await deps.reporter.close();
      }
    },
  };
}

function logPreflight(logger: Logger, p: Preflight): void {
  if (p.error) logger.error({ versions: p.versions }, `this worker takes no job: ${p.error}`);
  else logger.info({ versions: p.versions }, 'mlx-lm-lora found');
}
