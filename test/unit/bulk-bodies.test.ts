// The worker's bulk report bodies are accepted by ajv compiled from their zod schemas before zod is asked: ajv must
// never accept a body zod refuses (nor refuse one zod accepts, which would only cost time). Valid batches with one
// hostile change at a random place, after a JSON round trip as a body arrives, get the same verdict from both.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { compileAccept } from '../../src/api/bulk-bodies.js';
import { logChunkBody, metricBatchBody, reportBatchBody } from '../../src/shared/report-protocol.js';
import { nastyString, nastyValue } from '../helpers/fuzz.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const line = (seq: number, stream = 'stdout') => ({
  seq,
  stream,
  text: `Iter ${seq}: Train loss 1.0`,
  at: 1_700_000_000_000 + seq,
});
const chunk = {
  attempt: 1,
  offset: 0,
  bytes: 60,
  lines: [line(1), line(2, 'stderr'), line(3, 'system')],
  lineCount: 3,
  trim: { afterSeq: 1, beforeSeq: 3 },
  progress: { progressIteration: 3, progressTotal: 10, latestLoss: 1.5, latestValLoss: null, trainerPid: 42 },
};
const metrics = {
  attempt: 1,
  points: [
    { iteration: 1, split: 'train', name: 'loss', value: 1.25 },
    { iteration: 2, split: 'val', name: 'loss', value: null },
  ],
};
const batch = {
  reports: [
    { kind: 'logs', body: chunk },
    { kind: 'metrics', body: metrics },
  ],
};

/** Every place in a JSON value, as a path of keys and indexes (the root is []). */
function places(v: Json, at: (string | number)[] = []): (string | number)[][] {
  const here = [at];
  if (Array.isArray(v)) return here.concat(...v.map((x, i) => places(x, [...at, i])));
  if (v !== null && typeof v === 'object')
    return here.concat(...Object.entries(v).map(([k, x]) => places(x, [...at, k])));
  return here;
}

type Change =
  { kind: 'set'; value: unknown } | { kind: 'delete' } | { kind: 'add'; key: string; value: unknown };

function mutate(v: Json, path: (string | number)[], change: Change): unknown {
  const copy = structuredClone<Json>(v);
  if (path.length === 0) return change.kind === 'set' ? change.value : copy;
  const parent = path.slice(0, -1).reduce<Json>((o, k) => (o as Record<string, Json>)[k]!, copy) as Record<
    string,
    unknown
  >;
  const key = path.at(-1)!;
  const target = parent[key];
  if (change.kind === 'set') parent[key] = change.value;
  else if (change.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else if (target !== null && typeof target === 'object' && !Array.isArray(target))
    (target as Record<string, unknown>)[change.key] = change.value;
  return copy;
}

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), value: nastyValue }),
  fc.constant({ kind: 'delete' as const }),
  fc.record({
    kind: fc.constant('add' as const),
    key: fc.oneof(nastyString, fc.constantFrom('__proto__', 'constructor', 'seq', 'extra')),
    value: nastyValue,
  }),
);

const cases: [string, z.ZodType, Json][] = [
  ['report batch', reportBatchBody, batch],
  ['log chunk', logChunkBody, chunk],
  ['metric batch', metricBatchBody, metrics],
];

describe('bulk report bodies: ajv first, zod on refusal', () => {
  it.each(cases)('the %s schema compiles for ajv and accepts the valid body', (_name, schema, valid) => {
    const accepts = compileAccept(schema);
    expect(accepts).not.toBeNull();
    expect(accepts!(valid)).toBe(true);
    expect(schema.safeParse(valid).success).toBe(true);
  });

  it.each(cases)('ajv and zod agree on a %s with one hostile change anywhere', (_name, schema, valid) => {
    const accepts = compileAccept(schema)!;
    const all = places(valid);
    let refused = 0;
    fc.assert(
      fc.property(fc.nat({ max: all.length - 1 }), change, (i, c) => {
        // As a body arrives: through JSON (no undefined, no NaN, no lone prototype objects).
        const raw = JSON.stringify(mutate(valid, all[i]!, c));
        if (raw === undefined) return;
        const body = JSON.parse(raw) as unknown;
        const byZod = schema.safeParse(body).success;
        if (!byZod) refused++;
        expect(accepts(body), raw).toBe(byZod);
      }),
      { numRuns: 2000, seed: 16 },
    );
    // The corpus is not all harmless changes: most of them must be refusals, so agreement means something.
    expect(refused).toBeGreaterThan(500);
  });

  it('a schema whose output differs from its input (a default) is left to zod', () => {
    expect(compileAccept(z.strictObject({ n: z.number().default(1) }))).toBeNull();
    expect(compileAccept(z.strictObject({ n: z.string().transform(Number) }))).toBeNull();
  });
});
