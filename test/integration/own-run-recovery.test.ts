// A worker's recovery pass (every stalled interval) looks for runs that a dead process of this host left running. It
// must never take the worker's own live run for one: not in the moments after the run shows running and before its
// trainer starts, nor after the trainer exits and before the attempt's end is recorded.
import { afterEach, beforeEach, describe, expect } from 'vitest';

import {
  type ChaosEnv,
  chaosIt,
  createChaosEnv,
  getRun,
  sftRun,
  submit,
  waitStatus,
} from '../helpers/chaos.js';
import { redisUrl } from '../helpers/test-env.js';

let env: ChaosEnv;
beforeEach(async () => {
  env = await createChaosEnv(redisUrl());
});
afterEach(async () => {
  await env.cleanup();
});

describe('a worker recovering runs while it trains its own', () => {
  chaosIt('trains each run in one attempt although its recovery pass runs every 25 ms', async () => {
    // The pass runs far more often than the default (the stalled interval), so each run's start and end fall inside it.
    const lock = { lockDuration: 5000, stalledInterval: 25 };
    const trainerEnv = { MLX_STANDIN_STEP_SECONDS: '0.01' };
    await env.startWorker({ trainerEnv, lock });
    await env.startWorker({ trainerEnv, lock });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await submit(env.app, sftRun(10, 5))).id);
    for (const id of ids) {
      const run = await waitStatus(env.app, id, ['succeeded', 'failed', 'cancelled'], 60_000);
      expect(run.status, run.error ?? '').toBe('succeeded');
      const seen = await getRun(env.app, id);
      expect(seen.attempts, `run ${id}: ${JSON.stringify(seen.events)}`).toHaveLength(1);
      expect(seen.events.map((e) => e.toStatus)).toEqual(['queued', 'running', 'succeeded']);
    }
  });
});
