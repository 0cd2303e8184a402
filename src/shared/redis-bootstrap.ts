// Finds Redis for `npm start`: REDIS_URL, else one on 127.0.0.1:6379, else a redis-server started from PATH.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export const NO_REDIS_HELP = [
  'No Redis found: REDIS_URL is not set, nothing answers on 127.0.0.1:6379 and there is no redis-server on PATH.',
  'Get one of:',
  '  macOS:  brew install redis   (the service then starts it by itself)',
  '  Debian: sudo apt-get install redis-server',
  '  Docker: docker compose up -d redis',
  'or set REDIS_URL=redis://host:port',
].join('\n');

function answersPing(host: string, port: number, ms = 1000): Promise<boolean> {
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

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, cmd)));
}

export interface RedisBootstrap {
  url: string;
  /** Set when this process started redis-server; stop it on shutdown. */
  stop?: () => void;
}

export async function ensureRedis(redisUrl: string | undefined, dataDir: string): Promise<RedisBootstrap> {
  if (redisUrl) return { url: redisUrl };
  if (await answersPing('127.0.0.1', 6379)) return { url: 'redis://127.0.0.1:6379' };
  if (!onPath('redis-server')) throw new Error(NO_REDIS_HELP);
  const dir = path.join(dataDir, 'redis');
  fs.mkdirSync(dir, { recursive: true });
  // BullMQ asks for noeviction; append-only so queued runs survive a restart of Redis.
  const child = spawn(
    'redis-server',
    ['--port', '6379', '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--maxmemory-policy', 'noeviction'],
    { stdio: 'ignore', detached: false },
  );
  const deadline = Date.now() + 10_000;
  while (!(await answersPing('127.0.0.1', 6379))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start.\n${NO_REDIS_HELP}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: 'redis://127.0.0.1:6379', stop: () => child.kill('SIGTERM') };
}
