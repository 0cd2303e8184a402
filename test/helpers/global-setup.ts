// Finds a Redis for the integration tests: REDIS_URL, else testcontainers when Docker answers, else a spawned redis-server.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import type { TestProject } from 'vitest/node';

import { freePort, type RedisServer, startRedisServer } from '../../src/shared/redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

async function dockerAnswers(): Promise<boolean> {
  const sock = process.env.DOCKER_HOST?.startsWith('unix://')
    ? process.env.DOCKER_HOST.slice(7)
    : '/var/run/docker.sock';
  if (process.env.DOCKER_HOST && !process.env.DOCKER_HOST.startsWith('unix://')) return true;
  if (!fs.existsSync(sock)) return false;
  return new Promise((resolve) => {
    const c = net.createConnection(sock);
    c.setTimeout(1000);
    c.once('connect', () => {
      c.write('GET /_ping HTTP/1.0\r\n\r\n');
    });
    c.once('data', (d) => {
      resolve(d.toString().includes('200'));
      c.destroy();
    });
    c.once('error', () => resolve(false));
    c.once('timeout', () => {
      resolve(false);
      c.destroy();
    });
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.REDIS_URL) {
    project.provide('redisUrl', process.env.REDIS_URL);
    return async () => {};
  }
  if (await dockerAnswers()) {
    const { GenericContainer } = await import('testcontainers');
    const container = await new GenericContainer('redis:7-alpine')
      .withCommand(['redis-server', '--maxmemory-policy', 'noeviction'])
      .withExposedPorts(6379)
      .start();
    project.provide('redisUrl', `redis://${container.getHost()}:${container.getMappedPort(6379)}`);
    return async () => {
      await container.stop();
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-redis-'));
  let server: RedisServer;
  try {
    server = await startRedisServer({ port: await freePort(), dir, persistence: 'none' });
  } catch (e) {
    throw new Error(`No REDIS_URL, no Docker engine, and ${(e as Error).message}`, { cause: e });
  }
  project.provide('redisUrl', server.url);
  return async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
