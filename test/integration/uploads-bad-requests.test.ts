// Bad upload requests answer 4xx naming the part: missing or unknown parts, traversals, duplicates, bad fields, a
// JSON body, a broken multipart body, a dataset id that is not a sha256; nothing is left in the store.
import { describe, expect, it } from 'vitest';

import { dataFile, datasetUploads } from '../helpers/dataset-uploads.js';
import { multipart, type Part } from '../helpers/multipart.js';
import { useTestEnv } from '../helpers/use-test-env.js';

const env = useTestEnv({}, { perFile: true });
const { upload, storeEntries } = datasetUploads(env);

describe('bad upload requests answer 4xx naming the part', () => {
  const cases: [string, Part[], string][] = [
    ['no train.jsonl', [dataFile('valid')], 'train.jsonl'],
    [
      'an unknown file part',
      [dataFile('train'), { name: 'evil.sh', filename: 'evil.sh', content: 'rm -rf ~' }],
      'evil.sh',
    ],
    [
      'a traversal in the file name',
      [dataFile('train'), { name: 'file', filename: '../../../etc/cron.d/x.jsonl', content: '{}' }],
      'file',
    ],
    [
      'a traversal in the part name',
      [{ name: '../train.jsonl', filename: 'train.jsonl', content: '{}' }],
      '../train.jsonl',
    ],
    ['train.jsonl twice', [dataFile('train'), dataFile('train')], 'train.jsonl'],
    ['an unknown method', [dataFile('train'), { name: 'method', content: 'nope' }], 'method'],
    ['an unknown field', [dataFile('train'), { name: 'owner', content: 'root' }], 'owner'],
    ['a bad batch_size', [dataFile('train'), { name: 'batch_size', content: '-1' }], 'batch_size'],
  ];
  it.each(cases)('%s', async (_what, parts, field) => {
    const res = await upload(parts);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().error).toBe('invalid_request');
    expect(res.json().issues.map((i: { path: string }) => i.path)).toContain(field);
    expect(storeEntries().incoming).toEqual([]);
  });

  it('a JSON body is 415', async () => {
    const res = await env.app.inject({ method: 'POST', url: '/v1/datasets', payload: { train: 'x' } });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toMatchObject({
      error: 'unsupported_media_type',
      message: expect.stringContaining('multipart'),
    });
  });

  it('a truncated or boundary-less multipart body is 400', async () => {
    const { payload, headers } = multipart([dataFile('train')]);
    const cut = await env.app.inject({
      method: 'POST',
      url: '/v1/datasets',
      headers,
      payload: payload.subarray(0, payload.length - 40),
    });
    expect(cut.statusCode, cut.body).toBe(400);
    expect(cut.json().issues[0].path).toBe('body');
    const noBoundary = await env.app.inject({
      method: 'POST',
      url: '/v1/datasets',
      headers: { 'content-type': 'multipart/form-data' },
      payload,
    });
    expect(noBoundary.statusCode, noBoundary.body).toBe(400);
    expect(storeEntries().incoming).toEqual([]);
  });

  it('DELETE and GET with something other than a sha256 are 400 naming sha', async () => {
    for (const sha of ['..%2F..%2Fetc', 'abc', 'A'.repeat(64)]) {
      const res = await env.app.inject({ method: 'DELETE', url: `/v1/datasets/${sha}` });
      expect(res.statusCode, sha).toBe(400);
      expect(res.json().issues[0].path).toBe('params.sha');
    }
  });
});
