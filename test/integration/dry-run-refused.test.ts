// Bad requests and datasets are refused at the door: 400 naming the field, 422 for a dataset that cannot train;
// datasets/validate reports without submitting, and GET /v1/methods lists every method.
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { METHODS } from '../../src/domain/methods.js';
import { dryRunOf, requestFor } from '../helpers/dry-run.js';
import { TEST_DATA } from '../helpers/test-env.js';
import { useTestEnv } from '../helpers/use-test-env.js';

const env = useTestEnv({}, { perFile: true });
const dryRun = dryRunOf(env);

describe('bad requests and datasets are refused at the door', () => {
  it('answers 400 naming the field for a bad request', async () => {
    const res = await dryRun({ ...requestFor('sft'), group_size: 4 });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'invalid_request', issues: [{ path: 'group_size' }] });
  });

  it('answers 400 for a body that is not JSON', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: '{"method":',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_json');
  });

  it('answers 422 for a data directory that does not exist, before upstream could turn it into a network lookup', async () => {
    const res = await dryRun({ ...requestFor('sft'), data: path.join(TEST_DATA, 'nope') });
    expect(res.statusCode).toBe(422);
    expect(res.json().problems[0].message).toMatch(/Hugging Face/);
  });

  it.each([
    [
      'blank-line',
      'sft',
      [
        ['train.jsonl', 5],
        ['train.jsonl', 10],
      ],
    ],
    ['bom', 'sft', [['train.jsonl', 1]]],
    [
      'mixed-format',
      'sft',
      [
        ['train.jsonl', 4],
        ['train.jsonl', 7],
        ['valid.jsonl', 2],
      ],
    ],
    ['old-grpo-format', 'grpo', [['train.jsonl', 1]]],
  ] as const)('answers 422 with file and line for bad/%s', async (dir, method, expected) => {
    const res = await dryRun({ ...requestFor(method), data: path.join(TEST_DATA, 'bad', dir) });
    expect(res.statusCode, res.body).toBe(422);
    const body = res.json();
    expect(body.error).toBe('invalid_dataset');
    const got = body.problems.map((p: { file: string; line: number }) => [p.file, p.line]);
    for (const e of expected) expect(got).toContainEqual(e);
    if (dir === 'old-grpo-format') expect(body.problems[0].message).toMatch(/prompt.*answer.*system/);
    expect(body.report.splits.train.rows).toBeGreaterThan(0);
  });

  it('answers 422 when a split has fewer rows than batch_size, for a mode that would hang', async () => {
    const res = await dryRun({ ...requestFor('dpo'), batch_size: 64 });
    expect(res.statusCode).toBe(422);
    expect(JSON.stringify(res.json().problems)).toMatch(/hang/);
  });

  it('POST /v1/datasets/validate reports without submitting', async () => {
    const ok = await env.app.inject({
      method: 'POST',
      url: '/v1/datasets/validate',
      payload: { data: path.join(TEST_DATA, 'grpo'), method: 'gspo' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true, format: 'grpo' });
    const bad = await env.app.inject({
      method: 'POST',
      url: '/v1/datasets/validate',
      payload: { data: path.join(TEST_DATA, 'bad', 'bom'), method: 'sft' },
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().problems[0]).toMatchObject({ file: 'train.jsonl', line: 1 });
  });

  it('GET /v1/methods lists every method with parameters, ranges and a sample record', async () => {
    const res = await env.app.inject({ method: 'GET', url: '/v1/methods' });
    const { methods } = res.json();
    expect(methods.map((m: { method: string }) => m.method)).toEqual([...METHODS]);
    const grpo = methods.find((m: { method: string }) => m.method === 'grpo');
    const gs = grpo.parameters.find((p: { key: string }) => p.key === 'group_size');
    expect(gs).toMatchObject({ type: 'int', default: 4, min: 2, recommended: { min: 2, max: 16 } });
    expect(grpo.parameters.find((p: { key: string }) => p.key === 'temperature').default).toBe(0.8);
    expect(grpo.sampleRecord).toHaveProperty('answer');
    const gspo = methods.find((m: { method: string }) => m.method === 'gspo');
    expect(gspo.parameters.find((p: { key: string }) => p.key === 'importance_sampling_level')).toMatchObject(
      { default: 'sequence', fixed: true },
    );
  });
});
