// The benchmark's own Redis: REDIS_URL when set, else a redis-server on a free loopback port without persistence.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { freePort, startRedisServer } from '../../src/shared/redis-server.js';

export { freePort };

export interface BenchRedis {
  url: string;
  /** 'REDIS_URL' or 'spawned redis-server'. */
  origin: string;
  stop(): Promise<void>;
}

export async function startRedis(envUrl: string | undefined): Promise<BenchRedis> {
  if (envUrl) return { url: envUrl, origin: 'REDIS_URL', stop: async () => undefined };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-bench-redis-'));
  let server: Awaited<ReturnType<typeof startRedisServer>> | undefined;
  // Even when the benchmark dies (an exception, a closed stdout), its Redis and files go with it.
  const onExit = () => {
    server?.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  try {
    server = await startRedisServer({ port: await freePort(), dir, persistence: 'none' });
  } catch (e) {
    throw new Error(`REDIS_URL is not set and ${(e as Error).message}`, { cause: e });
  }
  const started = server;
  return {
    url: started.url,
    origin: 'spawned redis-server (no persistence)',
    async stop() {
      process.off('exit', onExit);
      await started.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
