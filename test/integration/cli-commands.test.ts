// The other CLI commands against a running service: command (dry run, offline too), list, show, cancel, methods,
// validate-data, sweep, the bearer token; and YAML bodies posted over plain HTTP, as curl users would.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { jobIdOf } from '../../src/shared/job-kinds.js';
import { mlxq } from '../helpers/cli.js';
import { createTestEnv, REPO_ROOT, TEST_DATA, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

let env: TestEnv | undefined;
afterEach(async () => {
  await env?.cleanup();
  env = undefined;
});

async function serve(overrides: Record<string, string> = {}): Promise<string> {
  env = await createTestEnv(overrides);
  return env.app.listen({ port: 0, host: '127.0.0.1' });
}

/** An address where nothing listens: bind a port, then close it. */
async function deadUrl(): Promise<string> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return `http://127.0.0.1:${port}`;
}

const grpoYaml = () => fs.readFileSync(path.join(TEST_DATA, 'configs', 'grpo.yaml'), 'utf8');

describe('mlxq command (dry run)', () => {
  it('without a reachable service, prints the argv built locally (exit 0)', async () => {
    const r = await mlxq(['command', 'test_data/configs/gspo.yaml'], { apiUrl: await deadUrl() });
    expect(r.exitCode, r.stderr).toBe(0);
    const [cmd] = r.stdout.split('\n');
    expect(cmd).toMatch(
      /^python3 -m mlx_lm_lora\.train --train --train-mode=grpo --model=mlx-community\/Qwen2\.5-0\.5B-Instruct-4bit /,
    );
    expect(cmd).toContain(`--data=${path.join(REPO_ROOT, 'test_data', 'grpo')} `);
    expect(cmd).toContain('--importance-sampling-level=sequence');
    expect(cmd).toContain(
      "'--adapter-path=<data-dir>/runs/<run-id>/adapters' '--config=<data-dir>/runs/<run-id>/config.yaml'",
    );
    expect(r.stdout).toContain('fuse: false');
    expect(r.stderr).toContain('cannot reach the service');
    expect(r.stderr).toContain('building the command locally');
  });

  it('--local never asks the service; MLX_PYTHON names the interpreter; JSON requests work too', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-cli-'));
    fs.writeFileSync(
      path.join(dir, 'req.json'),
      JSON.stringify({ method: 'dapo', model: 'm/x', data: 'd', iters: 5, epsilon_high: 0.3 }),
    );
    const r = await mlxq(['command', '--local', 'req.json'], {
      apiUrl: 'http://127.0.0.1:9',
      cwd: dir,
      env: { MLX_PYTHON: '/opt/py/bin/python3' },
    });
    fs.rmSync(dir, { recursive: true });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^\/opt\/py\/bin\/python3 -m mlx_lm_lora\.train --train --train-mode=grpo .*--epsilon-high=0\.3/,
    );
    expect(r.stderr).toBe('');
  });

  it('relative paths are read from where mlxq runs, as mlx_lm_lora.train would read them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-cli-'));
    fs.cpSync(path.join(TEST_DATA, 'grpo'), path.join(dir, 'my-data'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'config.yaml'),
      grpoYaml().replace('data: "test_data/grpo"', 'data: ./my-data'),
    );
    const r = await mlxq(['command', '--local', 'config.yaml'], { apiUrl: 'http://127.0.0.1:9', cwd: dir });
    fs.rmSync(dir, { recursive: true });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`--data=${path.join(dir, 'my-data')} `);
  });

  it('offline, bad input still exits 2 naming the line', async () => {
    const r = await mlxq(['command', '--local', 'test_data/configs/bad/unknown-key.yaml'], {
      apiUrl: 'http://127.0.0.1:9',
    });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain(
      'test_data/configs/bad/unknown-key.yaml:7 learning_rat: unknown option; did you mean learning_rate?',
    );
  });

  it("with a service, prints the service's dry run (its paths), queueing nothing", async () => {
    const apiUrl = await serve();
    const r = await mlxq(['command', 'test_data/configs/grpo.yaml', '--json'], { apiUrl });
    expect(r.exitCode, r.stderr).toBe(0);
    const dry = JSON.parse(r.stdout);
    expect(dry.checkedBy).toBe('service');
    expect(dry.argv).toEqual(expect.arrayContaining(['--train-mode=grpo', '--learning-rate=0.00001']));
    expect(dry.argv.at(-1)).toMatch(new RegExp(`^--config=${env!.dataDir}/runs/run_[^/]+/config\\.yaml$`));
    expect(dry.warnings.map((w: { path: string }) => w.path)).toEqual(
      expect.arrayContaining(['train', 'adapter_path']),
    );
    expect((await env!.app.inject({ method: 'GET', url: '/v1/runs' })).json().items).toEqual([]);
  });
});

describe('mlxq list, show, cancel', () => {
  it('lists and shows a queued run, cancels it, and says so', async () => {
    const apiUrl = await serve();
    const sub = await mlxq(['submit', 'test_data/configs/dpo.yaml'], { apiUrl });
    expect(sub.exitCode, sub.stderr).toBe(0);
    const id = sub.stdout.split(' ')[0]!;

    const list = await mlxq(['list'], { apiUrl });
    expect(list.exitCode).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID\s+STATUS\s+METHOD\s+ITER\s+LOSS/);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+queued\\s+dpo\\s+-`, 'm'));

    const show = await mlxq(['show', id], { apiUrl });
    expect(show.exitCode).toBe(0);
    expect(show.stdout).toMatch(/^status:\s+queued$/m);
    expect(show.stdout).toMatch(/^command:\s+python3 -m mlx_lm_lora\.train --train --train-mode=dpo /m);

    const cancel = await mlxq(['cancel', id], { apiUrl });
    expect(cancel.exitCode, cancel.stderr).toBe(0);
    expect(cancel.stdout).toBe(`${id} cancelled\n`);
    expect((await mlxq(['list', '--status', 'cancelled'], { apiUrl })).stdout).toContain(id);

    const again = await mlxq(['cancel', id], { apiUrl });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/HTTP 409/);
  });

  it('an unknown run id exits 2 with not found', async () => {
    const apiUrl = await serve();
    const r = await mlxq(['show', 'run_nope'], { apiUrl });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('Run run_nope was not found');
  });
});

describe('mlxq methods and validate-data', () => {
  it('methods lists every method; one method shows its parameters', async () => {
    const apiUrl = await serve();
    const all = await mlxq(['methods'], { apiUrl });
    expect(all.exitCode).toBe(0);
    for (const m of ['sft', 'gspo', 'dr_grpo', 'dapo', 'rlhf_reinforce', 'ftpo'])
      expect(all.stdout).toMatch(new RegExp(`^${m}\\s`, 'm'));
    const dapo = await mlxq(['methods', 'dapo'], { apiUrl });
    expect(dapo.stdout).toContain('requires: model, data, iters | epochs, epsilon_high');
    expect(dapo.stdout).toMatch(/^epsilon_high \*\s+float\s+>0 <1/m);
    expect((await mlxq(['methods', 'nope'], { apiUrl })).exitCode).toBe(2);
  });

  it('validate-data: 0 for a good directory, 2 with file and line for a bad one', async () => {
    const apiUrl = await serve();
    const ok = await mlxq(['validate-data', 'test_data/sft-chat', '--method', 'sft'], { apiUrl });
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(
      /sft-chat: ok for sft \(format sft:chat; train\.jsonl \d+ rows, valid\.jsonl \d+ rows\)/,
    );
    const bad = await mlxq(['validate-data', 'test_data/bad/blank-line', '-m', 'sft'], { apiUrl });
    expect(bad.exitCode).toBe(2);
    expect(bad.stdout).toMatch(/cannot train/);
    expect(bad.stdout).toMatch(/^train\.jsonl:\d+ /m);
    const noMethod = await mlxq(['validate-data', 'test_data/sft-chat'], { apiUrl });
    expect(noMethod.exitCode).toBe(2);
    expect(noMethod.stderr).toContain('needs --method');
  });
});

describe('mlxq sweep', () => {
  it('queues a sweep whose base is an unchanged upstream config file', async () => {
    const apiUrl = await serve();
    const r = await mlxq(['sweep', 'test_data/configs/sweep-grpo.yaml'], { apiUrl });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^sweep \S+ \(grpo learning rate\): 2 run\(s\) queued$/m);
    expect(r.stdout).toContain('{"learning_rate":0.00001}');
    expect(r.stdout).toContain('{"learning_rate":0.00002}');
    expect(r.stderr).toContain('warning: test_data/configs/grpo.yaml:47 adapter_path: ignored');
    const runs = (await env!.app.inject({ method: 'GET', url: '/v1/runs' })).json().items;
    expect(runs.map((x: { method: string }) => x.method)).toEqual(['grpo', 'grpo']);
  });

  it('a bad key in the base config names its file and line (exit 2)', async () => {
    const apiUrl = await serve();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-cli-'));
    fs.writeFileSync(path.join(dir, 'base.yaml'), 'model: m/x\ndata: d\niters: 3\ntrain_mode: gspo\n');
    fs.writeFileSync(
      path.join(dir, 'sweep.yaml'),
      'base: base.yaml\ngrid:\n  learning_rate: [1e-5]\nmetric: {name: loss, goal: min}\n',
    );
    const r = await mlxq(['sweep', 'sweep.yaml'], { apiUrl, cwd: dir });
    fs.rmSync(dir, { recursive: true });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('base.yaml:4 train_mode: "gspo" is not a train mode');
  });
});

describe('API_TOKEN', () => {
  it('is sent as a bearer token; without it the service refuses and mlxq exits 2', async () => {
    const apiUrl = await serve({ API_TOKEN: 'cli-test-token-1234' });
    const denied = await mlxq(['list'], { apiUrl });
    expect(denied.exitCode).toBe(2);
    expect(denied.stderr).toMatch(/unauthorized \(HTTP 401\): Missing bearer token/);
    const allowed = await mlxq(['list'], { apiUrl, env: { API_TOKEN: 'cli-test-token-1234' } });
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    expect(allowed.stdout).toBe('no runs\n');
  });
});

describe('POST /v1/runs with a YAML body (curl --data-binary @config.yaml)', () => {
  it.each(['application/yaml', 'application/x-yaml', 'text/yaml'])(
    '%s: an upstream config is queued, warnings with lines',
    async (type) => {
      await serve();
      const res = await env!.app.inject({
        method: 'POST',
        url: '/v1/runs',
        headers: { 'content-type': type },
        payload: grpoYaml(),
      });
      expect(res.statusCode, res.body).toBe(201);
      const run = res.json();
      expect(run).toMatchObject({ method: 'grpo', status: 'queued' });
      expect(run.warnings).toEqual(
        expect.arrayContaining([
          { path: 'train', line: 5, message: 'ignored: every run trains' },
          expect.objectContaining({ path: 'adapter_path', line: 47 }),
          expect.objectContaining({ path: 'fuse', message: expect.stringContaining('does not fuse') }),
        ]),
      );
      await waitFor(async () => (await env!.queue.getJob(jobIdOf('train', run.id, 1))) !== undefined, {
        what: 'the job',
      });
    },
  );

  it('a syntax error is a 400 naming the line; an unknown key a 400 naming key and line', async () => {
    await serve();
    const post = (payload: string) =>
      env!.app.inject({
        method: 'POST',
        url: '/v1/runs',
        headers: { 'content-type': 'application/yaml' },
        payload,
      });
    const syntax = await post('model: m/x\niters: [1, 2\ndata: d\n');
    expect(syntax.statusCode).toBe(400);
    expect(syntax.json().issues[0]).toMatchObject({
      line: expect.any(Number),
      message: expect.stringMatching(/^YAML syntax error/),
    });
    expect(syntax.json().message).toMatch(/line \d+/);
    const unknown = await post(`model: m/x\ndata: ${TEST_DATA}/sft-chat\niters: 2\nlearning_rat: 1e-5\n`);
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().issues).toEqual([
      { path: 'learning_rat', line: 4, message: expect.stringContaining('did you mean learning_rate') },
    ]);
    const list = await post('- a\n- b\n');
    expect(list.statusCode).toBe(400);
    expect(list.json().issues[0].message).toContain('mapping');
    const missingData = await post('model: m/x\ntrain_mode: sft\ndata: /nonexistent/dir\niters: 2\n');
    expect(missingData.statusCode).toBe(400);
    expect(missingData.json().issues).toEqual([expect.objectContaining({ path: 'data', line: 3 })]);
  });

  it('?dryRun=true works with YAML and queues nothing', async () => {
    await serve();
    const res = await env!.app.inject({
      method: 'POST',
      url: '/v1/runs?dryRun=true',
      headers: { 'content-type': 'application/yaml' },
      payload: grpoYaml(),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().argv).toEqual(expect.arrayContaining(['--train-mode=grpo']));
    expect(res.json().warnings.map((w: { path: string }) => w.path)).toContain('lora_parameters.keys');
  });
});
