import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { buildApp } from '../../src/api/app.js';
import { createDatasetValidator } from '../../src/datasets/validate-dataset.js';
import { closeDb, openDb } from '../../src/db/client.js';
import { listRunEvents, listRuns } from '../../src/db/runs-repository.js';
import { getSweep } from '../../src/db/sweeps-repository.js';
import { createPathPolicy } from '../../src/inputs/path-policy.js';
import { createDataResolver } from '../../src/inputs/resolve-data.js';
import { MODEL } from '../helpers/chaos.js';
import { TEST_DATA } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';
import { waitFor } from '../helpers/wait-for.js';

const env = useTestEnv();

const sweepBody = {
  name: 'lr',
  base: {
    method: 'sft',
    model: MODEL,
    data: path.join(TEST_DATA, 'sft-chat'),
    iters: 4,
    batch_size: 2,
    steps_per_report: 2,
  },
  grid: { learning_rate: [1e-5, 2e-5] },
  metric: { name: 'loss', goal: 'min' },
};

/** The app on a database handle that cannot write: any write a read route tried would answer 500. */
async function readOnlyApp() {
  const db = openDb(path.join(env.dataDir, 'mlxq.sqlite'), { readonly: true });
  const resolveData = createDataResolver(env.dataDir);
  const app = await buildApp({
    config: env.config,
    db,
    queue: env.queue,
    redis: env.redis,
    logger: false,
    inputs: {
      validator: createDatasetValidator(),
      resolveData,
      assertAllowedPath: createPathPolicy(env.config.allowedRoots),
    },
  });
  return {
    app,
    close: async () => {
      await app.close();
      closeDb(db);
    },
  };
}

describe('a sweep’s status', () => {
  it('is done when its last member ends, written with that member’s final status, without any GET', async () => {
    const res = await env.app.inject({ method: 'POST', url: '/v1/sweeps', payload: sweepBody });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().id as string;
    await env.startWorker();
    // Only SQLite is read here: no route runs before the sweep is done.
    const sweep = await waitFor(
      () => (getSweep(env.db, id)?.status === 'done' ? getSweep(env.db, id) : null),
      { timeoutMs: 60_000, what: 'the sweep to be done' },
    );
    const members = listRuns(env.db, { sweepId: id, limit: 10 }).items;
    expect(members.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    // The same transaction: the sweep's update time is the time of the last member's final event.
    const finalAt = Math.max(...members.map((r) => listRunEvents(env.db, r.id).at(-1)!.at));
    expect(sweep.updatedAt).toBe(finalAt);

    const ro = await readOnlyApp();
    try {
      const list = await ro.app.inject({ method: 'GET', url: '/v1/sweeps?status=done' });
      expect(list.statusCode, list.body).toBe(200);
      expect(list.json().items.map((s: { id: string }) => s.id)).toEqual([id]);
      expect((await ro.app.inject({ method: 'GET', url: '/v1/sweeps?status=active' })).json().items).toEqual(
        [],
      );
    } finally {
      await ro.close();
    }
  });

  it('is never written by a read: every read route answers on a read-only database handle', async () => {
    const res = await env.app.inject({ method: 'POST', url: '/v1/sweeps', payload: sweepBody });
    const id = res.json().id as string;
    const runId = res.json().runs[0].runId as string;
    // As a sweep looked before this change: members all final, the sweep still active. A GET used to settle it.
    env.db.$client.prepare("UPDATE runs SET status = 'cancelled' WHERE sweep_id = ?").run(id);
    const ro = await readOnlyApp();
    try {
      for (const url of [
        `/v1/sweeps/${id}`,
        `/v1/sweeps/${id}?format=csv`,
        '/v1/sweeps',
        '/v1/sweeps?status=active',
        '/v1/runs',
        `/v1/runs/${runId}`,
        `/v1/runs/${runId}/metrics`,
        `/v1/runs/${runId}/logs`,
        '/v1/datasets',
        '/readyz',
      ]) {
        const r = await ro.app.inject({ method: 'GET', url });
        expect(r.statusCode, `${url}: ${r.body}`).toBeLessThan(300);
      }
      expect((await ro.app.inject({ method: 'GET', url: `/v1/sweeps/${id}` })).json().status).toBe('active');
      expect(getSweep(env.db, id)?.status).toBe('active');
    } finally {
      await ro.close();
    }
  });
});
