import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../../src/shared/config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig({ HOME: '/home/u' });
    expect(c).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      mlxPython: 'python3',
      redisUrl: undefined,
      apiToken: undefined,
    });
    expect(c.dataDir).toBe(path.resolve('./data'));
    expect(c.allowedRoots).toEqual([c.dataDir, '/home/u/.cache/huggingface', '/home/u/.lmstudio/models']);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('parses numbers, booleans and roots', () => {
    const c = loadConfig({
      PORT: '9000',
      CAFFEINATE: 'false',
      RUN_IDLE_LIMIT_S: '5',
      ALLOWED_ROOTS: ['/a', '/b'].join(path.delimiter),
      DATA_DIR: '/d',
    });
    expect(c.port).toBe(9000);
    expect(c.caffeinate).toBe(false);
    expect(c.runIdleLimitMs).toBe(5000);
    expect(c.allowedRoots).toEqual(['/d', '/a', '/b']);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ REDIS_URL: '', PORT: '' }).port).toBe(8080);
  });

  it('reports every problem at once', () => {
    try {
      loadConfig({ PORT: 'eighty', REDIS_URL: 'not a url', API_TOKEN: 'short', SHUTDOWN_MODE: 'later' });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const problems = (e as ConfigError).problems.join('\n');
      for (const key of ['PORT', 'REDIS_URL', 'API_TOKEN', 'SHUTDOWN_MODE']) expect(problems).toContain(key);
    }
  });
});
