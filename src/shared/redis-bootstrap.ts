// The one place a process gets its Redis. `npm start`: REDIS_URL, else one on 127.0.0.1:6379, else a redis-server
// started from PATH that keeps its data. Tests and benchmarks: REDIS_URL, else testcontainers when Docker answers
// (tests), else a redis-server of their own on a free port in a temporary folder.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import {
  answersPing,
  freePort,
  type RedisPersistence,
  type RedisServer,
  startRedisServer,
} from './redis-server.js';

export const NO_REDIS_HELP = [
  'No Redis found: REDIS_URL is not set, nothing answers on 127.0.0.1:6379 and there is no redis-server on PATH.',
  'Get one of:',
  '  macOS:  brew install redis   (the service then starts it by itself)',
  '  Debian: sudo apt-get install redis-server',
  '  Docker: docker compose up -d redis',
  'or set REDIS_URL=redis://host:port',
].join('\n');

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, cmd)));
}

export interface RedisBootstrap {
  url: string;
  /** Set when this process started redis-server; stop it on shutdown. */
  stop?: () => void;
}

/** The service's Redis (`npm start`, the API, the local worker). */
export async function ensureRedis(redisUrl: string | undefined, dataDir: string): Promise<RedisBootstrap> {
  if (redisUrl) return { url: redisUrl };
  if (await answersPing(6379)) return { url: 'redis://127.0.0.1:6379' };
  if (!onPath('redis-server')) throw new Error(NO_REDIS_HELP);
  const dir = path.join(dataDir, 'redis');
  fs.mkdirSync(dir, { recursive: true });
  try {
    // Append-only so queued runs survive a restart of Redis.
    const server = await startRedisServer({ port: 6379, dir, persistence: 'append-only' });
    return { url: server.url, stop: () => void server.stop() };
  } catch (e) {
    throw new Error(`${(e as Error).message}\n${NO_REDIS_HELP}`, { cause: e });
  }
}

/** A redis-server of the caller's own on a free loopback port; stop/start model an outage, cleanup ends it for good. */
export interface ScratchRedis {
  url: string;
  /** SIGKILLs the server, an outage as a crash or a lost network makes it; its folder stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and folder. */
  start(): Promise<void>;
  /** Stops it and removes its folder (its data goes with it, so nothing is gained by a graceful stop). */
  cleanup(): Promise<void>;
}

/** Starts a redis-server in a fresh temporary folder (`mlxq-<label>-redis-*`); removed when this process exits. */
export async function startScratchRedis(persistence: RedisPersistence, label: string): Promise<ScratchRedis> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mlxq-${label}-redis-`));
  let server: RedisServer | undefined;
  // Even when the process dies (an exception, a closed stdout), its Redis and files go with it.
  const onExit = () => {
    server?.child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const start = async () => {
    server = await startRedisServer({ port, dir, persistence });
  };
  const stop = async () => {
    await server?.stop('SIGKILL');
    server = undefined;
  };
  try {
    await start();
  } catch (e) {
    process.off('exit', onExit);
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    async cleanup() {
      process.off('exit', onExit);
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when a Docker engine answers its /_ping (DOCKER_HOST over TCP is taken on trust). */
async function dockerAnswers(): Promise<boolean> {
  const host = process.env.DOCKER_HOST;
  if (host && !host.startsWith('unix://')) return true;
  const sock = host ? host.slice(7) : '/var/run/docker.sock';
  if (!fs.existsSync(sock)) return false;
  return new Promise((resolve) => {
    const c = net.createConnection(sock);
    const done = (v: boolean) => {
      c.destroy();
      resolve(v);
    };
    c.setTimeout(1000, () => done(false));
    c.once('error', () => done(false));
    c.once('connect', () => c.write('GET /_ping HTTP/1.0\r\n\r\n'));
    c.once('data', (d) => done(d.toString().includes('200')));
  });
}

export interface FoundRedis {
  url: string;
  /** Where it came from: 'REDIS_URL', 'testcontainers (redis:7-alpine)' or 'spawned redis-server (no persistence)'. */
  origin: string;
  stop(): Promise<void>;
}

/**
 * A Redis for tests and benchmarks, never the service's: REDIS_URL when set, else (with `docker`) a testcontainers
 * Redis when Docker answers, else a redis-server without persistence started from PATH.
 */
export async function findRedis(opts: {
  url: string | undefined;
  docker: boolean;
  label: string;
}): Promise<FoundRedis> {
  if (opts.url) return { url: opts.url, origin: 'REDIS_URL', stop: async () => undefined };
  if (opts.docker && (await dockerAnswers())) {
    // A devDependency, loaded only here: a worker Mac installed without them never reaches this line.
    const { GenericContainer } = await import('testcontainers');
    const container = await new GenericContainer('redis:7-alpine')
      .withCommand(['redis-server', '--maxmemory-policy', 'noeviction'])
      .withExposedPorts(6379)
      .start();
    return {
      url: `redis://${container.getHost()}:${container.getMappedPort(6379)}`,
      origin: 'testcontainers (redis:7-alpine)',
      stop: async () => {
        await container.stop();
      },
    };
  }
  let server: ScratchRedis;
  try {
    server = await startScratchRedis('none', opts.label);
  } catch (e) {
    const none = opts.docker ? 'No REDIS_URL, no Docker engine,' : 'REDIS_URL is not set';
    throw new Error(`${none} and ${(e as Error).message}`, { cause: e });
  }
  return { url: server.url, origin: 'spawned redis-server (no persistence)', stop: () => server.cleanup() };
}
