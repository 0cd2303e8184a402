// The spool's line framing: a report's method and path are read back without parsing its body, whose JSON bytes
// are passed on exactly as written; a line framed otherwise is still read whole.
import { describe, expect, it } from 'vitest';

import { decodeLine, encodeEntry, type SpoolEntry } from '../../src/worker/remote/spool-file.js';

const decode = (entry: SpoolEntry) => {
  const line = Buffer.from(encodeEntry(entry));
  expect(line.at(-1)).toBe(10);
  const got = decodeLine(line.subarray(0, -1));
  return { ...got, body: JSON.parse(got.body.toString('utf8')) as unknown, text: got.body.toString('utf8') };
};

describe('spool file framing', () => {
  it.each([
    [
      'a log chunk',
      '/v1/worker/runs/run_1/logs',
      { attempt: 1, lines: [{ text: 'a "quoted", "body": line' }] },
    ],
    ['a path with quotes and the body key in it', '/v1/x/",\\"body\\":"/y', { ok: true }],
    ['non-ASCII text', '/v1/worker/runs/r/events', { message: 'ünïcode ✓ \n newline' }],
    ['an empty body', '/v1/worker/runs/r/finish', {}],
  ])('%s: method and path come back, the body bytes are the JSON of the body', (_what, path, body) => {
    const got = decode({ method: 'POST', path, body });
    expect(got).toMatchObject({ method: 'POST', path, body });
    expect(got.text).toBe(JSON.stringify(body));
  });

  it('a line with its keys in another order is parsed whole', () => {
    const line = Buffer.from(JSON.stringify({ body: { a: 1 }, path: '/p', method: 'PUT' }));
    const got = decodeLine(line);
    expect(got).toMatchObject({ method: 'PUT', path: '/p' });
    expect(got.body.toString('utf8')).toBe('{"a":1}');
  });

  it('a body that holds the body key is framed by the first one, outside the path', () => {
    const got = decode({ method: 'PUT', path: '/p', body: { inner: { body: { deep: 1 } } } });
    expect(got.body).toEqual({ inner: { body: { deep: 1 } } });
  });
});
