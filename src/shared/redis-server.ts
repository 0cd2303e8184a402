// A local redis-server: a free loopback port, a PING check, and a server process started and stopped; the one
// implementation behind `npm start`, the integration tests, the chaos tests and the benchmarks.
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';

/** A port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * True when a Redis on host:port answers PING (or asks for a password, which is still a Redis). A server still
 * loading its append-only file answers -LOADING, which is not ready yet.
 */
export function answersPing(port: number, host = '127.0.0.1', ms = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.createConnection(port, host);
    const done = (v: boolean) => {
      c.destroy();
      resolve(v);
    };
    c.setTimeout(ms, () => done(false));
    c.once('error', () => done(false));
    c.once('connect', () => c.write('PING\r\n'));
    c.once('data', (d) => done(d.toString().startsWith('+PONG') || d.toString().startsWith('-NOAUTH')));
  });
}

/**
 * - `append-only`: a service's Redis; queued runs survive a restart of Redis (append-only file, default snapshots).
 * - `append-only-fsync-always`: every write reaches the disk before the answer, so a SIGKILL loses nothing
 *   (the Redis-outage chaos test).
 * - `none`: nothing written to disk (tests, benchmarks).
 */
export type RedisPersistence = 'append-only' | 'append-only-fsync-always' | 'none';

const PERSISTENCE_ARGS: Record<RedisPersistence, string[]> = {
  'append-only': ['--appendonly', 'yes'],
  'append-only-fsync-always': ['--save', '', '--appendonly', 'yes', '--appendfsync', 'always'],
  none: ['--save', '', '--appendonly', 'no'],
};

export interface RedisServerOptions {
  port: number;
  /** Its working directory (append-only file, snapshots); must exist. */
  dir: string;
  persistence: RedisPersistence;
  /** How long to wait for the first PONG. */
  timeoutMs?: number;
}

export interface RedisServer {
  url: string;
  port: number;
  child: ChildProcess;
  /** Signals the server (SIGTERM by default; SIGKILL is an outage as a crash makes it) and waits for its exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts redis-server from PATH on 127.0.0.1:port (BullMQ needs `noeviction`) and waits until it answers PING. */
export async function startRedisServer(opts: RedisServerOptions): Promise<RedisServer> {
  const args = [
    '--port',
    String(opts.port),
    '--bind',
    '127.0.0.1',
    '--dir',
    opts.dir,
    ...PERSISTENCE_ARGS[opts.persistence],
  ];
  const child = spawn('redis-server', [...args, '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  let spawnError: Error | undefined;
  child.once('error', (e) => (spawnError = e));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null || spawnError) return;
    child.kill(signal);
    await exited;
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  while (!(await answersPing(opts.port))) {
    if (spawnError)
      throw new Error(`redis-server could not start: ${spawnError.message}`, { cause: spawnError });
    if (child.exitCode !== null)
      throw new Error(
        `redis-server exited with code ${child.exitCode} before answering on port ${opts.port}`,
      );
    if (Date.now() > deadline) {
      await stop('SIGKILL');
      throw new Error(
        `redis-server did not answer on port ${opts.port} within ${opts.timeoutMs ?? 10_000} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { url: `redis://127.0.0.1:${opts.port}`, port: opts.port, child, stop };
}
