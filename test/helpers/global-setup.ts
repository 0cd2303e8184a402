// Finds a Redis for the integration tests: REDIS_URL, else testcontainers when Docker answers, else a spawned redis-server.
import type { TestProject } from 'vitest/node';

import { findRedis } from '../../src/shared/redis-bootstrap.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = await findRedis({ url: process.env.REDIS_URL, docker: true, label: 'test' });
  project.provide('redisUrl', redis.url);
  return () => redis.stop();
}
