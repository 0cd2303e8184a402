// Every path a request names must lie under the allowed roots after symlinks are resolved; values never become
// flags or shell code.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { BREVITY_REWARD_PY } from '../helpers/dry-run.js';
import { issuePaths } from '../helpers/issue-paths.js';
import { createTestEnv, TEST_DATA, type TestEnv } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

const HF_MODEL = 'mlx-community/Qwen2.5-0.5B-Instruct-4bit';
let env: TestEnv;
let root: string; // the one allowed root besides DATA_DIR and test_data
let outside: string; // a sibling folder that is not allowed

function populate(dir: string): void {
  fs.cpSync(path.join(TEST_DATA, 'sft-chat'), path.join(dir, 'data'), { recursive: true });
  fs.cpSync(path.join(TEST_DATA, 'dpo'), path.join(dir, 'dpo-data'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'model'));
  fs.writeFileSync(path.join(dir, 'model', 'config.json'), '{}');
  fs.writeFileSync(path.join(dir, 'rewards.py'), BREVITY_REWARD_PY);
  fs.writeFileSync(path.join(dir, 'adapters.safetensors'), 'not really weights');
}

beforeAll(async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-paths-'));
  root = path.join(base, 'allowed');
  outside = path.join(base, 'outside');
  fs.mkdirSync(root);
  fs.mkdirSync(outside);
  populate(root);
  populate(outside);
  // Symlinks inside the root that lead out of it.
  fs.symlinkSync(path.join(outside, 'data'), path.join(root, 'link-data'));
  fs.symlinkSync(path.join(outside, 'model'), path.join(root, 'link-model'));
  fs.symlinkSync(path.join(outside, 'rewards.py'), path.join(root, 'link-rewards.py'));
  fs.symlinkSync(outside, path.join(root, 'link-dir'));
  fs.mkdirSync(path.join(root, 'linked-split'));
  fs.symlinkSync(path.join(outside, 'data', 'train.jsonl'), path.join(root, 'linked-split', 'train.jsonl'));
  // A symlink that stays inside is fine.
  fs.symlinkSync(path.join(root, 'data'), path.join(root, 'inner-link'));
  env = await createTestEnv({ ALLOWED_ROOTS: [root, TEST_DATA].join(path.delimiter) });
});
afterAll(async () => {
  await env.cleanup();
  fs.rmSync(path.dirname(root), { recursive: true, force: true });
});

function sft(extra: Record<string, unknown>) {
  return { method: 'sft', model: HF_MODEL, data: path.join(root, 'data'), iters: 2, batch_size: 1, ...extra };
}

/** A GRPO run of the reward function in BREVITY_REWARD_PY (its file is named by reward_functions_file). */
const brevityGrpo = {
  method: 'grpo',
  model: HF_MODEL,
  data: path.join(TEST_DATA, 'grpo'),
  iters: 2,
  batch_size: 2,
  reward_functions: ['brevity_reward'],
};

async function dryRun(body: Record<string, unknown>) {
  return env.app.inject({ method: 'POST', url: '/v1/runs?dryRun=true', payload: body });
}

async function expectRefused(
  body: Record<string, unknown>,
  field: string,
  message: RegExp = /outside the allowed roots/,
) {
  const res = await dryRun(body);
  expect(res.statusCode, res.body).toBe(400);
  const json = res.json();
  expect(json.error).toBe('invalid_request');
  expect(json.issues).toContainEqual({ path: field, message: expect.stringMatching(message) });
  return json;
}

describe('data', () => {
  it('inside a root is accepted (control)', async () => {
    expect((await dryRun(sft({}))).statusCode).toBe(200);
    expect((await dryRun(sft({ data: path.join(root, 'inner-link') }))).statusCode).toBe(200);
  });

  it('an absolute path elsewhere is refused, naming the field', async () => {
    await expectRefused(sft({ data: path.join(outside, 'data') }), 'data');
  });

  it('a ".." escape from a root is refused', async () => {
    await expectRefused(sft({ data: `${root}/../outside/data` }), 'data');
    await expectRefused(sft({ data: path.relative(process.cwd(), path.join(outside, 'data')) }), 'data');
  });

  it('a symlink inside a root that points outside is refused, saying where it resolves', async () => {
    const json = await expectRefused(sft({ data: path.join(root, 'link-data') }), 'data', /resolves to/);
    expect(json.issues[0].message).toContain(fs.realpathSync(path.join(outside, 'data')));
    await expectRefused(sft({ data: path.join(root, 'link-dir', 'data') }), 'data');
  });

  it('a split file symlinked to a file outside is refused', async () => {
    await expectRefused(sft({ data: path.join(root, 'linked-split') }), 'data');
  });

  it('a missing path outside is refused as outside, not reported as missing (no existence probe)', async () => {
    await expectRefused(sft({ data: '/no/such/dir/anywhere' }), 'data');
    await expectRefused(sft({ data: path.join(root, 'link-dir', 'missing') }), 'data');
  });

  it('POST /v1/datasets/validate applies the same roots', async () => {
    for (const data of [
      path.join(outside, 'data'),
      path.join(root, 'link-data'),
      `${root}/../outside/data`,
      path.join(root, 'linked-split'),
    ]) {
      const res = await env.app.inject({
        method: 'POST',
        url: '/v1/datasets/validate',
        payload: { data, method: 'sft', batch_size: 1 },
      });
      expect(res.statusCode, data).toBe(400);
      expect(res.json().issues[0]).toMatchObject({
        path: 'data',
        message: expect.stringMatching(/outside the allowed roots/),
      });
    }
  });
});

describe('models, adapters and reward files', () => {
  it('a local model inside a root is accepted; outside, through "..", or through a symlink it is refused', async () => {
    expect((await dryRun(sft({ model: path.join(root, 'model') }))).statusCode).toBe(200);
    await expectRefused(sft({ model: path.join(outside, 'model') }), 'model');
    await expectRefused(sft({ model: `${root}/../outside/model` }), 'model');
    await expectRefused(sft({ model: path.join(root, 'link-model') }), 'model');
    await expectRefused(sft({ model: '/etc' }), 'model');
  });

  it('a model that is not a local path must look like a Hugging Face repo id', async () => {
    expect((await dryRun(sft({ model: HF_MODEL }))).statusCode).toBe(200);
    for (const model of ['not a repo', 'a/b/c', 'owner/', 'x;rm -rf ~', '$(id)/name']) {
      await expectRefused(sft({ model }), 'model', /Hugging Face repo id|outside the allowed roots/);
    }
  });

  it('resume_adapter_file, reference_model_path and judge follow the roots', async () => {
    expect(
      (await dryRun(sft({ resume_adapter_file: path.join(root, 'adapters.safetensors') }))).statusCode,
    ).toBe(200);
    await expectRefused(
      sft({ resume_adapter_file: path.join(outside, 'adapters.safetensors') }),
      'resume_adapter_file',
    );
    const dpo = {
      method: 'dpo',
      model: HF_MODEL,
      data: path.join(root, 'dpo-data'),
      iters: 2,
      batch_size: 1,
    };
    await expectRefused(
      { ...dpo, reference_model_path: path.join(root, 'link-model') },
      'reference_model_path',
    );
    const online = {
      method: 'online_dpo',
      model: HF_MODEL,
      data: path.join(TEST_DATA, 'prompts'),
      iters: 2,
      batch_size: 1,
    };
    await expectRefused({ ...online, judge: path.join(outside, 'model') }, 'judge');
  });

  it('reward_functions_file (Python the trainer executes) is accepted only from the roots', async () => {
    expect(
      (await dryRun({ ...brevityGrpo, reward_functions_file: path.join(root, 'rewards.py') })).statusCode,
    ).toBe(200);
    await expectRefused(
      { ...brevityGrpo, reward_functions_file: path.join(outside, 'rewards.py') },
      'reward_functions_file',
    );
    await expectRefused(
      { ...brevityGrpo, reward_functions_file: path.join(root, 'link-rewards.py') },
      'reward_functions_file',
    );
    await expectRefused(
      { ...brevityGrpo, reward_functions_file: `${root}/../outside/rewards.py` },
      'reward_functions_file',
    );
  });

  it('reward_functions_file must be a .py file, so files the service writes (configs, logs, uploads) never run', async () => {
    const config = path.join(env.dataDir, 'runs', 'x', 'config.yaml');
    fs.mkdirSync(path.dirname(config), { recursive: true });
    fs.writeFileSync(config, "wandb: __import__('os').system('id')\n"); // valid Python too (an annotation)
    fs.symlinkSync(config, path.join(root, 'disguised.py'));
    for (const file of [config, path.join(root, 'disguised.py')]) {
      const json = await expectRefused(
        { ...brevityGrpo, reward_functions_file: file },
        'reward_functions_file',
        /\.py/,
      );
      expect(json.issues).toHaveLength(1);
    }
  });

  it('reports every refused field at once', async () => {
    const res = await dryRun(
      sft({
        data: path.join(outside, 'data'),
        resume_adapter_file: path.join(outside, 'adapters.safetensors'),
      }),
    );
    expect(res.statusCode).toBe(400);
    expect(issuePaths(res)).toEqual(['data', 'resume_adapter_file']);
  });
});

describe('values never become flags or shell code', () => {
  it('a value beginning with "-" is refused for every path field', async () => {
    for (const field of ['model', 'data', 'resume_adapter_file', 'adapter_path']) {
      const res = await dryRun(sft({ [field]: '--help' }));
      expect(res.statusCode, field).toBe(400);
      expect(res.json().issues.map((i: { path: string }) => i.path)).toContain(field);
    }
  });

  it('a path full of shell syntax reaches the trainer as one argv element and runs nothing', async () => {
    const marker = path.join(root, 'pwned');
    const weird = path.join(root, `data $(touch ${marker}) ; touch ${marker} \`touch ${marker}\``);
    fs.cpSync(path.join(root, 'data'), weird, { recursive: true });
    const dry = await dryRun(sft({ data: weird }));
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json().argv).toContain(`--data=${weird}`);
    await env.startWorker();
    const res = await env.app.inject({ method: 'POST', url: '/v1/runs', payload: sft({ data: weird }) });
    expect(res.statusCode, res.body).toBe(201);
    const run = await waitFor(
      async () => {
        const r = (await env.app.inject({ url: `/v1/runs/${res.json().id}` })).json();
        return ['succeeded', 'failed', 'cancelled'].includes(r.status) ? r : null;
      },
      { timeoutMs: 30_000, what: 'the run to end' },
    );
    expect(run.status, run.error).toBe('succeeded');
    expect(fs.existsSync(marker)).toBe(false);
  });
});
