// Starts the project's own entrypoints (src/api/server.ts; the worker through bin/mlxq.js, compiled) as separate
// processes, as `npm run api` and `npm run worker` do, with a temp DATA_DIR and a queue prefix of their own.
import fs from 'node:fs';
import path from 'node:path';

import { freePort } from '../../src/shared/redis-server.js';
import { npmRunWorker } from './compiled.js';
import { type BenchContext, prefix as newPrefix, subdir } from './context.js';
import { type Proc, REPO_ROOT, runTs, waitHttp, waitLog } from './processes.js';

export const STAND_IN_PATH = path.join(REPO_ROOT, 'test', 'fixtures');
export const EMITTER_PATH = path.join(REPO_ROOT, 'bench', 'fixtures', 'emitter');

export interface ProjectDeployment {
  dataDir: string;
  prefix: string;
  /** A copy of test_data/sft-chat inside DATA_DIR, which the default ALLOWED_ROOTS admit. */
  dataset: string;
  env: Record<string, string>;
}

/**
 * Environment for both processes: the defaults, except the per-minute submit limit and the queued-runs cap,
 * which would refuse a benchmark's volume.
 */
export function deployment(
  ctx: BenchContext,
  name: string,
  extra: Record<string, string> = {},
): ProjectDeployment {
  const dataDir = subdir(ctx, name);
  const prefix = newPrefix(name);
  const dataset = path.join(dataDir, 'inputs', 'sft-chat');
  fs.cpSync(path.join(REPO_ROOT, 'test_data', 'sft-chat'), dataset, { recursive: true });
  return {
    dataDir,
    prefix,
    dataset,
    env: {
      DATA_DIR: dataDir,
      REDIS_URL: ctx.redisUrl,
      QUEUE_PREFIX: prefix,
      HOST: '127.0.0.1',
      MLX_PYTHON: ctx.python,
      CAFFEINATE: 'false',
      SUBMIT_RATE_PER_MIN: '100000000',
      MAX_QUEUED_RUNS: '100000000',
      ...extra,
    },
  };
}

export interface ProjectApi {
  proc: Proc;
  port: number;
}

export async function startProjectApi(
  d: ProjectDeployment,
  env: Record<string, string> = {},
): Promise<ProjectApi> {
  const port = await freePort();
  const proc = runTs('src/api/server.ts', {
    env: { ...d.env, PORT: String(port), ...env },
    logFile: path.join(d.dataDir, 'api.log'),
  });
  await waitHttp(proc, port, '/readyz');
  return { proc, port };
}

/** The worker as `npm run worker` starts it (see compiled.ts), with `trainerPath` first on PYTHONPATH (the stand-in or the line emitter). */
export async function startProjectWorker(
  d: ProjectDeployment,
  trainerPath: string,
  env: Record<string, string> = {},
): Promise<Proc> {
  const run = npmRunWorker();
  const proc = runTs(run.file, {
    plain: true,
    nodeArgs: run.nodeArgs,
    args: run.args,
    env: { ...d.env, PYTHONPATH: trainerPath, ...env },
    logFile: path.join(d.dataDir, 'worker.log'),
  });
  await waitLog(proc, /"msg":"worker ready"/);
  return proc;
}
