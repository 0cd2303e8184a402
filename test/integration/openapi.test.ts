// The OpenAPI document is generated from the routes' zod schemas, is valid OpenAPI 3.1, covers every /v1 route,
// and Swagger UI serves it at /docs.
import { validate } from '@readme/openapi-parser';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { METHODS } from '../../src/domain/methods.js';
import { createTestEnv, type TestEnv } from '../helpers/test-env.js';

let env: TestEnv;
let spec: OpenAPIV3_1.Document;
beforeAll(async () => {
  env = await createTestEnv();
  const res = await env.app.inject({ method: 'GET', url: '/docs/json' });
  expect(res.statusCode).toBe(200);
  spec = res.json();
});
afterAll(async () => {
  await env.cleanup();
});

type Schema = OpenAPIV3_1.SchemaObject & {
  discriminator?: { propertyName: string; mapping: Record<string, string> };
};

/** Every route the app registered, read from Fastify's own route tree: "METHOD /path/{param}". */
function registeredRoutes(): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of env.app.printRoutes().split('\n')) {
    const m = /^((?:[│ ] {3})*)[└├]── (\S+)(?: \(([A-Z, ]+)\))?$/u.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const url = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of (m[3] ?? '').split(', ').filter(Boolean))
      if (method !== 'HEAD') routes.push(`${method} ${url}`);
  }
  return routes;
}

function documentedRoutes(): Set<string> {
  const out = new Set<string>();
  for (const [url, item] of Object.entries(spec.paths ?? {})) {
    for (const method of Object.keys(item ?? {})) out.add(`${method.toUpperCase()} ${url}`);
  }
  return out;
}

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 (checked by @readme/openapi-parser against the official schema)', async () => {
    const result = await validate(structuredClone(spec) as never);
    expect(result.valid ? [] : result.errors.slice(0, 3)).toEqual([]);
    expect(spec.openapi).toBe('3.1.0');
  });

  it('(the validator does catch a broken document)', async () => {
    const broken = structuredClone(spec) as unknown as {
      paths: Record<string, Record<string, { responses?: unknown }>>;
    };
    delete broken.paths['/v1/runs']!.get!.responses;
    broken.paths['/v1/runs']!.get!.responses = 'none';
    expect((await validate(broken as never)).valid).toBe(false);
  });

  it('documents every /v1 route the app serves, and no page or bull-board route', () => {
    const api = registeredRoutes().filter((r) => r.split(' ')[1]!.startsWith('/v1/'));
    expect(api.length).toBeGreaterThanOrEqual(10);
    const documented = documentedRoutes();
    expect(api.filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => /\s\/(ui|admin|docs)\b/.test(r))).toEqual([]);
    expect(documented).toContain('POST /v1/datasets');
    expect(documented).toContain('DELETE /v1/datasets/{sha}');
  });

  it('documents POST /v1/runs as one strict schema per method, chosen by the method field', () => {
    const op = spec.paths!['/v1/runs']!.post!;
    const body = (op.requestBody as OpenAPIV3_1.RequestBodyObject).content['application/json']!
      .schema as Schema;
    expect(body.discriminator?.propertyName).toBe('method');
    expect(Object.keys(body.discriminator!.mapping).sort()).toEqual([...METHODS].sort());
    for (const method of METHODS) {
      const name = body.discriminator!.mapping[method]!.split('/').pop()!;
      const component = spec.components!.schemas![name] as Schema;
      expect(component.properties!.method).toMatchObject({ const: method });
      expect(component.required).toEqual(expect.arrayContaining(['method', 'model', 'data']));
      expect(component.additionalProperties).toBe(false);
      expect((component.properties!.model as Schema).description).toMatch(/Hugging Face/);
    }
    const grpo = spec.components!.schemas![body.discriminator!.mapping.grpo!.split('/').pop()!] as Schema;
    expect(grpo.properties).toHaveProperty('reward_functions_file');
    const sft = spec.components!.schemas![body.discriminator!.mapping.sft!.split('/').pop()!] as Schema;
    expect(sft.properties).not.toHaveProperty('group_size');
  });

  it('documents the dataset upload as multipart with the three split files', () => {
    const op = spec.paths!['/v1/datasets']!.post!;
    const schema = (op.requestBody as OpenAPIV3_1.RequestBodyObject).content['multipart/form-data']!
      .schema as Schema;
    expect(Object.keys(schema.properties!)).toEqual(
      expect.arrayContaining(['train.jsonl', 'valid.jsonl', 'test.jsonl', 'method']),
    );
    expect(schema.required).toEqual(['train.jsonl']);
  });

  it("documents GET /v1/workers' entries field by field: the domain's worker entry and its view fields", () => {
    const deref = (s: Schema | { $ref: string }): Schema =>
      '$ref' in s ? (spec.components!.schemas![s.$ref.split('/').pop()!] as Schema) : s;
    const op = spec.paths!['/v1/workers']!.get!;
    const list = deref(
      (op.responses['200'] as OpenAPIV3_1.ResponseObject).content!['application/json']!.schema as Schema,
    );
    const array = deref(list.properties!.items as Schema) as OpenAPIV3_1.ArraySchemaObject;
    const items = deref(array.items as Schema);
    expect(Object.keys(items.properties!)).toEqual(
      expect.arrayContaining([
        'name',
        'state',
        'versions',
        'totalMemoryBytes',
        'stateText',
        'usable',
        'lastSeen',
      ]),
    );
    expect(items.required).toEqual(expect.arrayContaining(['name', 'state', 'usable', 'lastSeen']));
  });

  it('declares bearer auth for the API and none for health', () => {
    expect(spec.components!.securitySchemes!.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(spec.security).toEqual([{ bearerAuth: [] }]);
    expect(spec.paths!['/healthz']!.get!.security).toEqual([]);
    const errorRef = (spec.paths!['/v1/runs/{id}']!.get!.responses['4XX'] as OpenAPIV3_1.ResponseObject)
      .content!['application/json']!.schema as { $ref: string };
    expect(errorRef.$ref).toBe('#/components/schemas/Error');
  });
});

describe('documentation does not change validation', () => {
  it('POST /v1/runs still answers parseRunRequest issues (not a union mismatch)', async () => {
    const res = await env.app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: { method: 'sft', model: 'a/b', data: 'x', iters: 1, learning_rat: 1 },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().issues).toContainEqual({
      path: 'learning_rat',
      message: expect.stringMatching(/did you mean learning_rate/),
    });
  });
});

describe('Swagger UI', () => {
  it('is served at /docs', async () => {
    const res = await env.app.inject({ method: 'GET', url: '/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toMatch(/swagger/i);
  });
});
