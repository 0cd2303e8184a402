// How the worker routes take their large bodies (a log chunk, a metric batch, a spool's backlog of up to 4 MiB):
// parsed by `JSON.parse` alone, and accepted by ajv compiled from the route's own zod schema before zod is asked.
// zod copies every object it checks (a 2,000-line chunk is 2,000 new objects, and garbage for the collector) and
// costs ~6x ajv on such a body (bench: reporting protocol); ajv checks in place. What ajv refuses goes to zod, so a
// bad body gets the same 400 as on every other route, naming the field.
import { isDeepStrictEqual } from 'node:util';

import { Ajv, type ValidateFunction } from 'ajv';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

const ajv = new Ajv({ allErrors: false, coerceTypes: false, useDefaults: false, removeAdditional: false });

/**
 * ajv's check of a zod schema, or null when JSON Schema cannot say all of it: a default or transform (what zod gives
 * back differs from what it was given) or a type JSON Schema has no word for. Refinements are not seen by the
 * conversion: only schemas without any may be passed (the bulk report bodies; a test walks a corpus through both).
 */
export function compileAccept(schema: z.ZodType): ValidateFunction | null {
  // Once per schema for the process: ajv keeps what it compiles, and an app is built once per test.
  if (!compiled.has(schema)) compiled.set(schema, compile(schema));
  return compiled.get(schema) ?? null;
}

const compiled = new WeakMap<z.ZodType, ValidateFunction | null>();

function compile(schema: z.ZodType): ValidateFunction | null {
  try {
    const input = z.toJSONSchema(schema, { target: 'draft-07', io: 'input', unrepresentable: 'throw' });
    const output = z.toJSONSchema(schema, { target: 'draft-07', io: 'output', unrepresentable: 'throw' });
    return isDeepStrictEqual(input, output) ? ajv.compile(input) : null;
  } catch {
    return null;
  }
}

/**
 * For the routes of one plugin: the listed body schemas are accepted by ajv first, everything else (params, query,
 * other bodies, and any body ajv refuses) is zod's, as on every route.
 */
export function bulkBodyValidator(bulk: readonly z.ZodType[]): FastifySchemaCompiler<z.ZodType> {
  return (route) => {
    const byZod = validatorCompiler(route);
    if (route.httpPart !== 'body' || !bulk.includes(route.schema)) return byZod;
    const accepts = compileAccept(route.schema);
    if (!accepts) return byZod;
    return (data) => (accepts(data) ? { value: data } : byZod(data));
  };
}

/**
 * JSON bodies parsed by `JSON.parse` alone. Fastify's default parser scans every body again for `__proto__` and
 * `constructor` keys (~20 % of a log batch's parse and check); the worker routes' bodies are all strict objects,
 * which refuse any key they do not name, those included.
 */
export function plainJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body: Buffer, done) => {
    try {
      done(null, JSON.parse(body.toString('utf8')) as unknown);
    } catch (e) {
      done(
        Object.assign(new Error(`the body is not valid JSON: ${(e as Error).message}`), { statusCode: 400 }),
      );
    }
  });
}
