// Finds Redis for `npm start`: REDIS_URL, else one on 127.0.0.1:6379, else a redis-server started from PATH.
import fs from 'node:fs';
import path from 'node:path';

import { answersPing, startRedisServer } from './redis-server.js';

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
