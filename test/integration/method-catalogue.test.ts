// GET /v1/methods and `mlxq methods` say what the table of methods says, method by method, in its order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { MethodCatalogue } from '../../src/contract/methods.js';
import { METHOD_INFO, METHODS } from '../../src/domain/methods.js';
import { appliesTo, RUN_OPTIONS } from '../../src/domain/run-options.js';
import { mlxq } from '../helpers/cli.js';
import { createTestEnv, type TestEnv } from '../helpers/test-env.js';

let env: TestEnv;
let catalogue: MethodCatalogue;
beforeAll(async () => {
  env = await createTestEnv();
  const res = await env.app.inject({ method: 'GET', url: '/v1/methods' });
  expect(res.statusCode).toBe(200);
  catalogue = res.json<MethodCatalogue>();
});
afterAll(async () => {
  await env.cleanup();
});

describe('GET /v1/methods follows the table of methods', () => {
  it('lists every method, in the table order', () => {
    expect(catalogue.methods.map((m) => m.method)).toEqual(METHODS);
  });

  it.each(METHODS)('%s: its entry, options, requirements, sample record, metrics and notes', (method) => {
    const info = METHOD_INFO[method];
    const entry = catalogue.methods.find((m) => m.method === method)!;
    expect(entry).toMatchObject({
      trainMode: info.trainMode,
      family: info.family,
      title: info.title,
      description: info.description,
      requires: ['model', 'data', 'iters | epochs', ...info.requires],
      sampleRecord: info.mode.dataset.sample,
    });
    const options = RUN_OPTIONS.filter((o) => appliesTo(o, info.trainMode)).map((o) => o.key);
    expect(entry.parameters.map((p) => p.key)).toEqual(options);
    for (const p of entry.parameters) {
      expect(p.fixed, p.key).toBe(info.fixed?.[p.key] !== undefined);
      expect(p.required, p.key).toBe(['model', 'data', ...info.requires].includes(p.key));
    }
    expect(entry.metrics.map((m) => m.name)).toEqual(info.mode.metrics.map((m) => m.name));
    expect(entry.rewardFunctions !== null).toBe(info.family === 'grpo');
    expect(entry.notes.some((n) => n.includes('hangs forever'))).toBe(
      info.mode.tinyData.behaviour === 'hangs',
    );
    expect(entry.notes.some((n) => n.startsWith('test: true is refused'))).toBe(info.mode.test !== 'works');
  });
});

describe('mlxq methods follows the table of methods', () => {
  it('prints one row per method: its name, train mode and title, in the table order', async () => {
    const apiUrl = await env.app.listen({ port: 0, host: '127.0.0.1' });
    const r = await mlxq(['methods'], { apiUrl });
    expect(r.exitCode, r.stderr).toBe(0);
    const rows = r.stdout.split('\n').slice(1).filter(Boolean);
    expect(rows.map((row) => row.split(/\s+/)[0])).toEqual(METHODS);
    for (const [i, method] of METHODS.entries()) {
      const { trainMode, title } = METHOD_INFO[method];
      expect(rows[i]).toMatch(new RegExp(`^${method}\\s+${trainMode}\\s+${title.replace(/\./g, '\\.')}\\s`));
    }
  });
});
