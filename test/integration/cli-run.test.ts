// A user with mlx-lm-lora YAML configs queues them unchanged with the CLI and follows them to the end.
import fs from 'node:fs';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { mlxq } from '../helpers/cli.js';
import { createTestEnv, type TestEnv } from '../helpers/test-env.js';

let env: TestEnv;
let apiUrl: string;
beforeEach(async () => {
  env = await createTestEnv();
  apiUrl = await env.app.listen({ port: 0, host: '127.0.0.1' });
});
afterEach(async () => {
  await env.cleanup();
});

async function getRun(id: string) {
  return (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}` })).json();
}

describe('mlxq submit --watch with an upstream GRPO config', () => {
  it('queues the file unchanged and draws the progress bar to success (exit 0)', async () => {
    await env.startWorker({ trainerEnv: { MLX_STANDIN_STEP_SECONDS: '0.1' } });
    const r = await mlxq(['submit', 'test_data/configs/grpo.yaml', '--watch', '--interval', '100'], {
      apiUrl,
    });
    expect(r.exitCode, r.stderr).toBe(0);

    const lines = r.stdout.trim().split('\n');
    const id = /^(\S+) queued \(grpo, mlx-community\/Qwen2.5-0.5B-Instruct-4bit\)$/.exec(lines[0]!)?.[1];
    expect(id, r.stdout).toBeDefined();
    // A bar with iteration of total, ETA and latest loss while it runs, then the full bar, then the result.
    expect(r.stdout).toMatch(/\[#*\.+\] {2}\d+\/20 iterations {2}\d+% {2}ETA \d+:\d\d/);
    expect(r.stdout).toMatch(/\[#{24}\] {2}20\/20 iterations {2}100% {2}loss -?\d+\.\d{3}/);
    expect(lines.at(-1)).toMatch(
      new RegExp(`^${id} succeeded in \\d+:\\d\\d; adapters: .*adapters\\.safetensors$`),
    );

    // What the service did differently from `mlx_lm_lora.train -c grpo.yaml`, each pointed at its line.
    expect(r.stderr).toContain('warning: test_data/configs/grpo.yaml:5 train: ignored: every run trains');
    expect(r.stderr).toContain('warning: test_data/configs/grpo.yaml:47 adapter_path: ignored');
    expect(r.stderr).toContain('warning: test_data/configs/grpo.yaml:60 lora_parameters.keys: ignored');

    const run = await getRun(id!);
    expect(run.status).toBe('succeeded');
    expect(run.method).toBe('grpo');
    expect(run.request).toMatchObject({
      learning_rate: 1e-5,
      reward_functions: ['r1_accuracy_reward_func', 'r1_count_xml'],
      reward_weights: [0.7, 0.3],
    });
    expect(run.argv).toEqual(
      expect.arrayContaining([
        '--train-mode=grpo',
        '--temperature=0.9',
        '--reward-functions=r1_accuracy_reward_func,r1_count_xml',
      ]),
    );
    expect(run.argv).not.toContain('adapters');
    expect(run.config).toContain('rank: 8');
    expect(run.config).not.toContain('keys');
    expect(fs.existsSync(run.adapterFile)).toBe(true);
  });

  it('watch follows a run submitted earlier; a GSPO config becomes method gspo', async () => {
    const sub = await mlxq(['submit', 'test_data/configs/gspo.yaml', '--json'], { apiUrl });
    expect(sub.exitCode, sub.stderr).toBe(0);
    const created = JSON.parse(sub.stdout);
    expect(created).toMatchObject({ status: 'queued', method: 'gspo' });
    expect(created.argv).toEqual(expect.arrayContaining(['--importance-sampling-level=sequence']));

    await env.startWorker({ trainerEnv: { MLX_STANDIN_STEP_SECONDS: '0.05' } });
    const r = await mlxq(['watch', created.id, '--interval', '100'], { apiUrl });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('10/10 iterations');
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(new RegExp(`^${created.id} succeeded`));
  });
});

describe('a run that fails', () => {
  it('watch and logs -f exit 1 and say why', async () => {
    await env.startWorker({ trainerEnv: { MLX_STANDIN_CRASH_AT_ITER: '3' } });
    const sub = await mlxq(['submit', 'test_data/configs/sft.yaml'], { apiUrl });
    expect(sub.exitCode, sub.stderr).toBe(0);
    const id = sub.stdout.split(' ')[0]!;

    const watched = await mlxq(['watch', id, '--interval', '100'], { apiUrl });
    expect(watched.exitCode, watched.stdout).toBe(1);
    expect(watched.stderr).toMatch(new RegExp(`^${id} failed`, 'm'));

    const logs = await mlxq(['logs', id, '-f'], { apiUrl });
    expect(logs.exitCode).toBe(1);
    expect(logs.stdout).toContain('Traceback');
    expect(logs.stderr).toContain(`run ${id} failed`);
  });
});

describe('bad input exits 2 and names the field or line', () => {
  it('an unknown key in a YAML config: file, line, key and suggestion; nothing queued', async () => {
    const r = await mlxq(['submit', 'test_data/configs/bad/unknown-key.yaml'], { apiUrl });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('error: the request is invalid (HTTP 400):');
    expect(r.stderr).toContain(
      'test_data/configs/bad/unknown-key.yaml:7 learning_rat: unknown option; did you mean learning_rate?',
    );
    expect((await env.app.inject({ method: 'GET', url: '/v1/runs' })).json().items).toEqual([]);
  });

  it('a YAML syntax error names its line', async () => {
    const r = await mlxq(['submit', 'test_data/configs/bad/syntax.yaml'], { apiUrl });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/test_data\/configs\/bad\/syntax\.yaml:\d+ YAML syntax error at column \d+: /);
  });

  it('a JSON request without iters or epochs names the field', async () => {
    const file = `${env.dataDir}/req.json`;
    fs.writeFileSync(
      file,
      JSON.stringify({ method: 'sft', model: 'mlx-community/x', data: 'test_data/sft-chat' }),
    );
    const r = await mlxq(['submit', file], { apiUrl });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('iters: exactly one of iters or epochs is required');
  });

  it('a dataset that cannot train: file and line from the service (422)', async () => {
    const file = `${env.dataDir}/blank.yaml`;
    fs.writeFileSync(
      file,
      'model: mlx-community/x\ntrain_mode: sft\ndata: test_data/bad/blank-line\niters: 5\nbatch_size: 1\nfuse: false\n',
    );
    const r = await mlxq(['submit', file], { apiUrl });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('error: the dataset cannot train (HTTP 422):');
    expect(r.stderr).toMatch(/train\.jsonl:\d+ .*blank/i);
  });

  it('a missing file, an unknown command, a missing argument', async () => {
    expect((await mlxq(['submit', 'nope.yaml'], { apiUrl })).stderr).toContain(
      'file nope.yaml does not exist',
    );
    expect((await mlxq(['submit', 'nope.yaml'], { apiUrl })).exitCode).toBe(2);
    expect((await mlxq(['frobnicate'], { apiUrl })).exitCode).toBe(2);
    const r = await mlxq(['watch'], { apiUrl });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('usage: mlxq watch <run-id>');
  });
});
