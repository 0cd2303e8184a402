// Stand-in trainers of other releases (MLX_STANDIN_VERSION): the flags a worker's trainer has decide what is refused
// at submit and what command is built, and each run records what it trained with.
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { NO_FLAGS_WARNING } from '../../src/app/trainer-flags.js';
import { MODEL as model, TEST_DATA } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';
import { waitFor } from '../helpers/wait-for.js';

const env = useTestEnv();
const sft = {
  method: 'sft',
  model,
  data: path.join(TEST_DATA, 'sft-chat'),
  iters: 4,
  batch_size: 2,
  steps_per_report: 2,
  steps_per_eval: 2,
};
const grpo = {
  method: 'grpo',
  model,
  data: path.join(TEST_DATA, 'grpo'),
  iters: 4,
  batch_size: 2,
  steps_per_report: 2,
  steps_per_eval: 2,
};

/** Starts a worker playing that release and waits until its registry entry carries its flag set. */
async function workerPlaying(name: string, trainerEnv: Record<string, string>) {
  await env.startWorker({ trainerEnv, config: { workerName: name } });
  return waitFor(
    async () => {
      const items = (await env.app.inject({ method: 'GET', url: '/v1/workers' })).json().items as {
        name: string;
        flagSet?: { version: string; source: string; options: unknown[] };
      }[];
      return items.find((w) => w.name === name && w.flagSet) ?? null;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: `worker ${name} in the registry with its flags` },
  );
}

const post = (body: object, dry = false) =>
  env.app.inject({ method: 'POST', url: `/v1/runs${dry ? '?dryRun=true' : ''}`, payload: body });

async function finished(id: string) {
  return waitFor(
    async () => {
      const r = (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}` })).json();
      return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : null;
    },
    { timeoutMs: 90_000, intervalMs: 200, what: `run ${id} to finish` },
  );
}

describe('trainer versions', () => {
  it("a request needing a flag the only worker's mlx-lm-lora lacks is refused at submit, naming option, worker and version", async () => {
    const entry = await workerPlaying('vm-1', { MLX_STANDIN_VERSION: '0.7.0' });
    expect(entry.flagSet).toMatchObject({ version: '0.7.0', source: 'build_parser' });
    expect(entry.flagSet!.options).toHaveLength(46);
    // Refused by admission against the registered workers (422, each worker's reasons), this check among them.
    const res = await post({ ...grpo, importance_sampling_level: 'sequence' });
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json().message).toContain(
      'importance_sampling_level: mlx-lm-lora 0.7.0 on vm-1 has no --importance-sampling-level',
    );
    expect(res.json().workers).toEqual({
      'vm-1': 'importance_sampling_level: mlx-lm-lora 0.7.0 on vm-1 has no --importance-sampling-level',
    });
    // The dry run answers, with the reason as a warning on the option.
    const dry = (await post({ ...grpo, importance_sampling_level: 'sequence' }, true)).json();
    expect(dry.warnings).toContainEqual({
      path: 'importance_sampling_level',
      message: 'mlx-lm-lora 0.7.0 on vm-1 has no --importance-sampling-level',
    });
    const gspo = await post({ ...grpo, method: 'gspo' });
    expect(gspo.statusCode).toBe(422);
    expect(gspo.json().message).toContain(
      'importance_sampling_level: mlx-lm-lora 0.7.0 on vm-1 has no --importance-sampling-level',
    );
    expect((await env.app.inject({ method: 'GET', url: '/v1/runs' })).json().items).toEqual([]);
  });

  it('plain requests on 0.7.0 build commands its argparse accepts; the runs succeed and record version and environment', async () => {
    await workerPlaying('vm-1', { MLX_STANDIN_VERSION: '0.7.0' });
    const dry = (await post(sft, true)).json();
    expect(dry.flagSet).toEqual({ version: '0.7.0', source: 'build_parser', worker: 'vm-1' });
    expect(dry.warnings.map((w: { path: string }) => w.path)).not.toContain('mlx-lm-lora');
    for (const body of [sft, grpo]) {
      const res = await post(body);
      expect(res.statusCode, res.body).toBe(201);
      expect(
        res
          .json()
          .argv.some(
            (a: string) => a.startsWith('--importance-sampling-level') || a.startsWith('--sft-loss-type'),
          ),
      ).toBe(false);
      const run = await finished(res.json().id);
      expect(run.status, run.error).toBe('succeeded');
      expect(run.mlxVersion).toBe('0.7.0');
      expect(run.environment).toMatchObject({
        worker: 'vm-1',
        mlxLmLora: '0.7.0',
        flagSet: { version: '0.7.0', source: 'build_parser' },
      });
      expect(run.environment.python).toMatch(/^3\./);
      expect(run.environment.os).toEqual(expect.any(String));
      expect(run.environment.memoryBytes).toBeGreaterThan(0);
      // 0.7.0 prints no tqdm total we rely on here; its Starting line and the request agree on the total.
      expect(run.progress).toMatchObject({ iteration: 4, total: 4 });
    }
  });

  it('a worker whose trainer has no build_parser() publishes the flags its --help shows, and its runs succeed', async () => {
    const entry = await workerPlaying('vm-2', {
      MLX_STANDIN_VERSION: '0.8.1',
      MLX_STANDIN_NO_BUILD_PARSER: '1',
    });
    expect(entry.flagSet).toMatchObject({ version: '0.8.1', source: 'help' });
    expect(entry.flagSet!.options).toHaveLength(48);
    const run = await finished((await post(sft)).json().id);
    expect(run.status, run.error).toBe('succeeded');
    expect(run.environment).toMatchObject({
      worker: 'vm-2',
      mlxLmLora: '0.8.1',
      flagSet: { version: '0.8.1', source: 'help' },
    });
  });

  it('with no worker registered the command is checked against the verified 3.1.2 set, and the answer says so', async () => {
    const dry = await post(sft, true);
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json().flagSet).toEqual({ version: '3.1.2', source: 'verified', worker: null });
    expect(dry.json().warnings).toContainEqual({ path: 'mlx-lm-lora', message: NO_FLAGS_WARNING });
    const res = await post({ ...grpo, importance_sampling_level: 'sequence' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().warnings).toContainEqual({ path: 'mlx-lm-lora', message: NO_FLAGS_WARNING });
  });

  it('a run queued before a 0.7.0 worker registered, needing a flag it lacks, is handed back saying what is missing', async () => {
    const res = await post({ ...grpo, importance_sampling_level: 'sequence' });
    expect(res.statusCode, res.body).toBe(201);
    await env.startWorker({ trainerEnv: { MLX_STANDIN_VERSION: '0.7.0' }, config: { workerName: 'vm-1' } });
    const run = await waitFor(
      async () => {
        const r = (await env.app.inject({ method: 'GET', url: `/v1/runs/${res.json().id}` })).json();
        return r.events.some((e: { reason: string | null }) =>
          e.reason?.includes('has no --importance-sampling-level'),
        )
          ? r
          : null;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'the hand-back event' },
    );
    expect(run.status).toBe('queued');
    expect(run.events.map((e: { reason: string | null }) => e.reason)).toContain(
      'handed back by vm-1: it cannot train this run (importance_sampling_level: mlx-lm-lora 0.7.0 on vm-1 has no --importance-sampling-level)',
    );
  });

  it('an unverified 5.10.2 runs with a warning, and says once that its metrics are not recognised', async () => {
    await workerPlaying('vm-3', { MLX_STANDIN_VERSION: '5.10.2' });
    const res = await post({ ...sft, iters: 6, steps_per_report: 1, steps_per_eval: 1 });
    expect(res.statusCode, res.body).toBe(201);
    const run = await finished(res.json().id);
    expect(run.status, run.error).toBe('succeeded');
    const messages = run.warnings.map((w: { message: string }) => w.message);
    expect(messages).toContain(
      'unverified mlx-lm-lora 5.10.2: commands were checked against its own parser, output parsing may miss metrics',
    );
    expect(
      run.events.filter((e: { reason: string | null }) =>
        e.reason?.startsWith('metrics not recognised for this version'),
      ),
    ).toHaveLength(1);
    expect(
      (await env.app.inject({ method: 'GET', url: `/v1/runs/${run.id}/metrics` })).json().points,
    ).toEqual([]);
  });
});
