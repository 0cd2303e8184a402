// Wires the job fetcher (one job at a time, from the shared queue and the placement queues this worker meets) to the
// job handlers, for the local and the remote worker alike: takes jobs only while its trainer check passes (re-checked
// every PREFLIGHT_RECHECK_S and on recheck()), keeps its registry entry fresh, listens for cancel signals, reports
// through its Reporter (runs and follow-up jobs), and shuts down cleanly (wait for the training, or stop it and
// re-queue it). What only a worker in the control plane's process does (recover work of dead workers on this host
// from SQLite, the follow-up outbox) comes in `local` (worker-duties.ts); this module loads no SQLite or server code.
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { Config } from '../shared/config.js';
import { probeMlxLmVersion, writeMlxLmVersion } from '../shared/mlx-lm-version.js';
import { cancelChannel, createRunsQueue, WORKER_LOCK, type WorkerLockOptions } from '../shared/queue.js';
import { runQueuesOf, workChannel } from '../shared/run-queues.js';
import { withDeadline } from '../shared/shutdown.js';
import { killGroup } from './execute.js';
import { createFollowUpHandler } from './follow-up/process-follow-up.js';
import { startJobFetcher } from './job-fetcher.js';
import { createDispatcher } from './job-handlers.js';
import { readMachineFacts } from './machine-facts.js';
import { type Preflight, preflightMlx } from './preflight.js';
import { createTrainHandler } from './process-run.js';
import type { Reporter, RevokedError } from './reporter.js';
import { workerIdentity } from './run-lease.js';
import { ActiveJobs, type LocalDuties } from './worker-duties.js';
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
  /** Stop taking jobs; 'wait' lets the running training finish, 'requeue' stops it for a later resume. */
  close(mode?: 'wait' | 'requeue'): Promise<void>;
  /** The control plane refused this worker's token: stop the training and take no more jobs. */
  revoke(reason: string): void;
}

/** An idle worker looks at its queues this often without a wake-up (delayed jobs that came due, a missed signal). */
const FETCH_POLL_MS = 1000;

/** A Redis step of the shutdown gets this long; Redis answers in milliseconds when it is there at all. */
const REDIS_STEP_MS = 1000;

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
  /** Remote worker: the request's paths (a local model, a file) exist on this Mac, checked before the trainer. */
  checkPaths?: (request: Record<string, unknown>) => Promise<void>;
  trainerEnv?: Record<string, string>;
  lock?: Partial<WorkerLockOptions>;
  /** Called when a job this worker ran ends, however it ended (a remote worker prunes its run folders). */
  onJobDone?: () => void;
}

export async function startWorkerCore(deps: WorkerCoreDeps): Promise<WorkerHandle> {
  const { config, logger } = deps;
  // One object, updated in place by re-checks: the handler and the registry entry read it.
  const preflight: Preflight = await preflightMlx(config.mlxPython, deps.trainerEnv);
  logPreflight(logger, preflight);
  // The API refuses GGUF exports on mlx-lm versions whose writer is broken: it reads what this worker found.
  const mlxLm = await probeMlxLmVersion(config.mlxPython, deps.trainerEnv);
  await writeMlxLmVersion(config.dataDir, mlxLm, config.workerName).catch((err: unknown) =>
    logger.warn({ err }, 'could not record the mlx-lm version'),
  );
  const self = await workerIdentity(config.workerName);
  // The registry entry says `training <run>` as soon as a run starts and `idle` as soon as it ends.
  let beat = () => undefined as unknown;
  const active = new ActiveJobs(() => beat());
  const trainers = new Set<number>();
  const shutdown = new AbortController();
  let stopping = false;
  let revoked: string | null = null;
  const lock = {
    ...WORKER_LOCK,
    lockDuration: config.lockDurationMs,
    stalledInterval: config.stalledIntervalMs,
    ...deps.lock,
  };

  const facts = await readMachineFacts(config);
  const entrySnapshot = () => {
    const runId = active.keys().next().value ?? null;
    const state = stopping
      ? 'stopping'
      : revoked || preflight.error
        ? 'unusable'
        : runId
          ? 'training'
          : 'idle';
    return {
      name: deps.reporter.workerName,
      versions: preflight.versions,
      state,
      runId,
      reason: revoked ?? preflight.error,
      flagSet: preflight.flagSet,
      environment: preflight.environment,
    } as const;
  };
  const heartbeat = startHeartbeat({
    redis: deps.connection,
    prefix: config.queuePrefix,
    heartbeatMs: config.workerHeartbeatMs,
    lostMs: config.workerLostMs,
    facts,
    dataDir: config.dataDir,
    logger,
    snapshot: () => entrySnapshot(),
  });
  beat = () => void heartbeat.beat();

  // Before taking jobs: runs a dead worker of this host left running are interrupted and their next attempts queued.
  const queue = createRunsQueue(deps.connection, config.queuePrefix);
  // Its connection is the worker's, whose errors the process already logs; unhandled, BullMQ prints them raw.
  queue.on('error', (err) => logger.debug({ err: err.message }, 'recovery queue error'));
  const recovery = deps.local?.startRecovery(
    runQueuesOf(queue, deps.connection, config.queuePrefix),
    self,
    active,
    lock.stalledInterval,
  );
  await recovery?.first;

  const channel = cancelChannel(config.queuePrefix);
  await deps.subscriber.subscribe(channel);
  const onCancel = (ch: string, runId: string) => {
    const running = ch === channel ? active.get(runId) : undefined;
    if (!running || running.signal.aborted) return;
    logger.info({ runId }, 'cancel signal: stopping the trainer');
    running.abort('cancelled');
  };
  deps.subscriber.on('message', onCancel);

  const queues = runQueuesOf(queue, deps.connection, config.queuePrefix);
  // Revoked: no more jobs; the run it trained is handed to another worker by the control plane.
  const onRevoked = (error: RevokedError | string) => {
    if (revoked) return;
    revoked = typeof error === 'string' ? error : error.message;
    logger.error({ reason: revoked }, 'this worker was revoked: it takes no more jobs');
    for (const c of active.values()) c.abort('cancelled');
    void heartbeat.beat();
  };
  // What the run and the follow-up handlers share.
  const common = {
    ...deps,
    config: { ...config, stalledIntervalMs: lock.stalledInterval },
    active,
    self,
    shutdown: shutdown.signal,
    queue,
  };
  const train = createTrainHandler({
    ...common,
    preflight,
    trainers,
    queues,
    entry: () => ({
      host: self.host,
      pid: process.pid,
      startedAt: 0,
      lastSeen: Date.now(),
      ...facts,
      ...entrySnapshot(),
    }),
    handBack: (jobId: string, untilMs: number) => fetcher.skip(jobId, untilMs),
    onRevoked,
    reclaim: deps.local ? (runId) => deps.local!.reclaim(runId, self, active) : undefined,
  });
  const followUp = createFollowUpHandler({ ...common, queues, reporter: deps.reporter.jobs });
  // Follow-up jobs (evaluate, samples, fuse, export) share the queue, so one GPU job runs at a time.
  const [evaluate, samples, fuse] = [followUp, followUp, followUp];
  const processor = createDispatcher({ train, evaluate, samples, fuse, export: followUp });
  // One job at a time from every queue this worker serves (the shared one and the placement queues it meets); it
  // takes none while its trainer check fails, and starts once a check passes.
  const fetcher = await startJobFetcher({
    connection: deps.connection,
    prefix: config.queuePrefix,
    options: lock,
    processor: async (job, token) => {
      void heartbeat.beat();
      try {
        return await processor(job, token);
      } finally {
        void heartbeat.beat();
        deps.onJobDone?.();
      }
    },
    logger,
    self: () => ({
      name: deps.reporter.workerName,
      totalMemoryBytes: facts.totalMemoryBytes,
      labels: facts.labels,
    }),
    canFetch: () => !stopping && !revoked && !preflight.error,
    pollMs: FETCH_POLL_MS,
  });
  const worker = fetcher.shared;
  const work = workChannel(config.queuePrefix);
  await deps.subscriber.subscribe(work);
  const onWork = (ch: string) => {
    if (ch === work) fetcher.wake();
  };
  deps.subscriber.on('message', onWork);
  const outbox = deps.local?.startOutbox(queues);
  const authTimer = deps.stillAuthorized
    ? setInterval(() => {
        deps.stillAuthorized!().then(
          (ok) => ok || onRevoked("the control plane refuses this worker's token (revoked)"),
          () => undefined,
        );
      }, config.workerHeartbeatMs)
    : undefined;
  authTimer?.unref();

  const applyUsability = () => {
    if (!stopping) fetcher.wake();
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
      const closing = fetcher.close();
      if (mode === 'requeue') shutdown.abort();
      // Past the deadline a 'wait' shutdown stops the training too (it resumes on the next start).
      const deadline = setTimeout(() => shutdown.abort(), config.shutdownDeadlineMs);
      try {
        await closing;
      } finally {
        clearTimeout(deadline);
        deps.subscriber.off('message', onCancel);
        deps.subscriber.off('message', onWork);
        await withDeadline(deps.subscriber.unsubscribe(channel, work), REDIS_STEP_MS).catch((err: unknown) =>
          logger.warn({ err }, 'unsubscribe failed'),
        );
        await withDeadline(heartbeat.stop(true), REDIS_STEP_MS);
        await withDeadline(queue.close(), REDIS_STEP_MS).catch((err: unknown) =>
          logger.warn({ err }, 'closing the recovery queue failed'),
        );
        await deps.reporter.close();
      }
    },
  };
}

function logPreflight(logger: Logger, p: Preflight): void {
  if (p.error) logger.error({ versions: p.versions }, `this worker takes no job: ${p.error}`);
  else logger.info({ versions: p.versions }, 'mlx-lm-lora found');
}
