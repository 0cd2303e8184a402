// Parses the process environment once, with zod, into a frozen typed Config. The only reader of process.env.
import os from 'node:os';
import path from 'node:path';

import { z } from 'zod';

const boolish = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  REDIS_URL: z.url().optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  MLX_PYTHON: z.string().min(1).default('python3'),
  API_TOKEN: z.string().min(8, 'API_TOKEN must be at least 8 characters').optional(),
  QUEUE_PREFIX: z.string().min(1).default('mlxq'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Extra roots (path-delimited) under which datasets, models and reward files may lie. */
  ALLOWED_ROOTS: z.string().optional(),
  /** Per-run wall-clock limit in seconds; 0 means none. */
  RUN_TIME_LIMIT_S: z.coerce.number().min(0).default(0),
  /** A run that prints nothing for this many seconds is ended; 0 means never. */
  RUN_IDLE_LIMIT_S: z.coerce.number().min(0).default(1800),
  /** Grace between SIGTERM and SIGKILL when a trainer is stopped. */
  KILL_GRACE_S: z.coerce.number().min(0).default(10),
  /** On SIGTERM: 'wait' for the running training, or 'requeue' it (stop and resume later). */
  SHUTDOWN_MODE: z.enum(['wait', 'requeue']).default('requeue'),
  SHUTDOWN_DEADLINE_S: z.coerce.number().min(0).default(60),
  /** BullMQ job lock: how long a worker that cannot reach Redis keeps its run before another may take it. */
  WORKER_LOCK_S: z.coerce.number().gt(0).default(300),
  /** How often workers look for runs whose worker died (BullMQ stalled check and the run-lease scan). */
  STALLED_INTERVAL_S: z.coerce.number().gt(0).default(30),
  /** How many attempts a run gets for trainer failures (exit other than 0 and 2, a signal); crashes always resume. */
  MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).optional(),
  /** The older name of MAX_ATTEMPTS, still read when MAX_ATTEMPTS is not set. */
  TRAINER_FAILURE_ATTEMPTS: z.coerce.number().int().min(1).max(20).optional(),
  /** Retry backoff: the first delay, doubling per failure (with jitter) up to the cap. */
  RETRY_BASE_DELAY_S: z.coerce.number().min(0).default(10),
  RETRY_MAX_DELAY_S: z.coerce.number().min(0).default(600),
  /** An interrupted run (shutdown, crash) is queued again after this. */
  RESUME_DELAY_S: z.coerce.number().min(0).default(1),
  /** How often the reconciler makes the queue match SQLite (also at start and when Redis comes back). */
  RECONCILE_INTERVAL_S: z.coerce.number().gt(0).default(30),
  /** On SIGTERM/SIGINT the process exits within this, whatever is unreachable (requeue mode). */
  SHUTDOWN_TIMEOUT_S: z.coerce.number().gt(0).default(10),
  /** Workers refresh their registry entry this often; an entry lives 2 periods. */
  WORKER_HEARTBEAT_S: z.coerce.number().gt(0).default(10),
  /** A worker whose trainer check failed checks again this often (and on SIGHUP). */
  PREFLIGHT_RECHECK_S: z.coerce.number().gt(0).default(60),
  /** Per-run log cap in bytes: past it only the head and the tail are kept. */
  LOG_CAP_BYTES: z.coerce
    .number()
    .int()
    .min(4096)
    .default(64 * 1024 * 1024),
  MAX_QUEUED_RUNS: z.coerce.number().int().min(1).default(10_000),
  SUBMIT_RATE_PER_MIN: z.coerce.number().int().min(1).default(600),
  /** Calls per minute each worker may make to the worker routes (reports, downloads). */
  WORKER_RATE_PER_MIN: z.coerce.number().int().min(1).default(6000),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  UPLOAD_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(2 * 1024 * 1024 * 1024),
  /** Worker identity shown in the dashboard; defaults to host name and pid. */
  WORKER_NAME: z.string().optional(),
  CAFFEINATE: boolish.default(true),
  /** Admission: a run fits a worker when estimate × margin ≤ its usable memory. */
  MEMORY_MARGIN: z.coerce.number().min(1).max(3).default(1.2),
  /** A method × model family's margin is tuned from calibration once this many of its runs have a measured peak; 0: never. */
  MEMORY_TUNE_AFTER_RUNS: z.coerce.number().int().min(0).default(5),
  /** This Mac's memory in GB as the worker reports it (default: the machine's RAM). */
  WORKER_MEMORY_GB: z.coerce.number().gt(0).optional(),
  /** Comma-separated labels this worker offers to `placement.labels` (e.g. `studio,m2-ultra`). */
  WORKER_LABELS: z
    .string()
    .transform((s) => [
      ...new Set(
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(
      z
        .array(
          z
            .string()
            .max(64)
            .regex(/^[\w.:/=+-]+$/, 'labels: letters, digits and . _ : / = + - only'),
        )
        .max(32),
    )
    .optional(),
  /** A worker whose registry entry has not been refreshed for this long shows as lost (and takes no placement). */
  WORKER_LOST_S: z.coerce.number().gt(0).default(90),
  /** One webhook for every event, kept as the endpoint `wh_env` (POST /v1/webhooks adds more). */
  WEBHOOK_URL: z.url().optional(),
  WEBHOOK_SECRET: z.string().min(1).optional(),
  /** A delivery attempt that gets no answer within this is a failure (and retried). */
  WEBHOOK_TIMEOUT_S: z.coerce.number().gt(0).default(10),
  /** The first retry waits about this long; each further one doubles (with jitter, at most 6 h). */
  WEBHOOK_RETRY_BASE_S: z.coerce.number().gt(0).default(30),
  /** The service's address as its users reach it, for the links in notifications. */
  PUBLIC_URL: z.url().optional(),
  /** macOS only: also show each notification on this Mac's desktop (osascript). */
  NOTIFY_DESKTOP: boolish.default(false),
  /** Where the `lmstudio` export puts models (LM Studio's models folder). */
  LMSTUDIO_MODELS_DIR: z.string().min(1).optional(),
  /** Space a fuse or export leaves free on the run's disk, on top of its estimate. */
  DISK_RESERVE_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(1024 * 1024 * 1024),
  /** The Hugging Face cache, where a repo id is looked up as a local folder (huggingface_hub's own variables). */
  HF_HUB_CACHE: z.string().min(1).optional(),
  HF_HOME: z.string().min(1).optional(),
  /** A remote worker: the control plane it reports to (it then opens no SQLite of its own). */
  SERVER_URL: z.url().optional(),
  /** A remote worker's token, from POST /v1/workers on the control plane. */
  WORKER_TOKEN: z.string().min(16).optional(),
  /** `npm start` without its local worker: the control plane alone (API, history, dashboard). */
  START_WORKER: boolish.default(true),
  /** A remote worker's cache of uploaded datasets, in bytes (least recently used ones are evicted past it). */
  DATASET_CACHE_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(20 * 1024 ** 3),
  /** A remote worker keeps the folders of this many of its newest runs; older ones go once the run is final. */
  WORKER_KEEP_RUNS: z.coerce.number().int().min(0).default(5),
});

export type Config = Readonly<{
  port: number;
  host: string;
  redisUrl: string | undefined;
  dataDir: string;
  mlxPython: string;
  apiToken: string | undefined;
  queuePrefix: string;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  allowedRoots: readonly string[];
  runTimeLimitMs: number;
  runIdleLimitMs: number;
  killGraceMs: number;
  shutdownMode: 'wait' | 'requeue';
  shutdownDeadlineMs: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxAttempts: number;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  resumeDelayMs: number;
  reconcileIntervalMs: number;
  shutdownTimeoutMs: number;
  workerHeartbeatMs: number;
  preflightRecheckMs: number;
  logCapBytes: number;
  maxQueuedRuns: number;
  submitRatePerMin: number;
  workerRatePerMin: number;
  bodyLimitBytes: number;
  uploadLimitBytes: number;
  workerName: string;
  caffeinate: boolean;
  memoryMargin: number;
  memoryTuneAfterRuns: number;
  workerMemoryBytes: number;
  /** Whether WORKER_MEMORY_GB set workerMemoryBytes (else it is the machine's RAM). */
  workerMemoryFromEnv: boolean;
  workerLabels: readonly string[];
  workerLostMs: number;
  webhookUrl: string | undefined;
  webhookSecret: string | undefined;
  webhookTimeoutMs: number;
  webhookRetryBaseMs: number;
  publicUrl: string;
  notifyDesktop: boolean;
  lmstudioModelsDir: string;
  diskReserveBytes: number;
  hfHubCache: string;
  serverUrl: string | undefined;
  workerToken: string | undefined;
  startWorker: boolean;
  datasetCacheBytes: number;
  workerKeepRuns: number;
}>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Validates the environment, reporting every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  if ((e.SERVER_URL === undefined) !== (e.WORKER_TOKEN === undefined)) {
    throw new ConfigError([
      `${e.SERVER_URL === undefined ? 'SERVER_URL' : 'WORKER_TOKEN'}: a remote worker needs both SERVER_URL and WORKER_TOKEN`,
    ]);
  }
  const dataDir = path.resolve(e.DATA_DIR);
  const home = env.HOME ?? os.homedir();
  const extraRoots = (e.ALLOWED_ROOTS ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((p) => path.resolve(p));
  const allowedRoots = e.ALLOWED_ROOTS
    ? extraRoots
    : [dataDir, path.join(home, '.cache', 'huggingface'), path.join(home, '.lmstudio', 'models')];
  return Object.freeze({
    port: e.PORT,
    host: e.HOST,
    redisUrl: e.REDIS_URL,
    dataDir,
    mlxPython: e.MLX_PYTHON,
    apiToken: e.API_TOKEN,
    queuePrefix: e.QUEUE_PREFIX,
    logLevel: e.LOG_LEVEL,
    allowedRoots: Object.freeze(allowedRoots.includes(dataDir) ? allowedRoots : [dataDir, ...allowedRoots]),
    runTimeLimitMs: e.RUN_TIME_LIMIT_S * 1000,
    runIdleLimitMs: e.RUN_IDLE_LIMIT_S * 1000,
    killGraceMs: e.KILL_GRACE_S * 1000,
    shutdownMode: e.SHUTDOWN_MODE,
    shutdownDeadlineMs: e.SHUTDOWN_DEADLINE_S * 1000,
    lockDurationMs: e.WORKER_LOCK_S * 1000,
    stalledIntervalMs: e.STALLED_INTERVAL_S * 1000,
    maxAttempts: e.MAX_ATTEMPTS ?? e.TRAINER_FAILURE_ATTEMPTS ?? 3,
    retryBaseDelayMs: e.RETRY_BASE_DELAY_S * 1000,
    retryMaxDelayMs: e.RETRY_MAX_DELAY_S * 1000,
    resumeDelayMs: e.RESUME_DELAY_S * 1000,
    reconcileIntervalMs: e.RECONCILE_INTERVAL_S * 1000,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_S * 1000,
    workerHeartbeatMs: e.WORKER_HEARTBEAT_S * 1000,
    preflightRecheckMs: e.PREFLIGHT_RECHECK_S * 1000,
    logCapBytes: e.LOG_CAP_BYTES,
    maxQueuedRuns: e.MAX_QUEUED_RUNS,
    submitRatePerMin: e.SUBMIT_RATE_PER_MIN,
    workerRatePerMin: e.WORKER_RATE_PER_MIN,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    uploadLimitBytes: e.UPLOAD_LIMIT_BYTES,
    workerName: e.WORKER_NAME ?? `${os.hostname()}:${process.pid}`,
    caffeinate: e.CAFFEINATE,
    memoryMargin: e.MEMORY_MARGIN,
    memoryTuneAfterRuns: e.MEMORY_TUNE_AFTER_RUNS,
    workerMemoryBytes: e.WORKER_MEMORY_GB !== undefined ? e.WORKER_MEMORY_GB * 1e9 : os.totalmem(),
    workerMemoryFromEnv: e.WORKER_MEMORY_GB !== undefined,
    workerLabels: Object.freeze(e.WORKER_LABELS ?? []),
    workerLostMs: e.WORKER_LOST_S * 1000,
    webhookUrl: e.WEBHOOK_URL,
    webhookSecret: e.WEBHOOK_SECRET,
    webhookTimeoutMs: e.WEBHOOK_TIMEOUT_S * 1000,
    webhookRetryBaseMs: e.WEBHOOK_RETRY_BASE_S * 1000,
    publicUrl: (e.PUBLIC_URL ?? `http://${e.HOST.includes(':') ? `[${e.HOST}]` : e.HOST}:${e.PORT}`).replace(
      /\/$/,
      '',
    ),
    notifyDesktop: e.NOTIFY_DESKTOP,
    lmstudioModelsDir: path.resolve(e.LMSTUDIO_MODELS_DIR ?? path.join(home, '.lmstudio', 'models')),
    diskReserveBytes: e.DISK_RESERVE_BYTES,
    hfHubCache: path.resolve(
      e.HF_HUB_CACHE ?? path.join(e.HF_HOME ?? path.join(home, '.cache', 'huggingface'), 'hub'),
    ),
    serverUrl: e.SERVER_URL?.replace(/\/$/, ''),
    workerToken: e.WORKER_TOKEN,
    startWorker: e.START_WORKER,
    datasetCacheBytes: e.DATASET_CACHE_BYTES,
    workerKeepRuns: e.WORKER_KEEP_RUNS,
  });
}
