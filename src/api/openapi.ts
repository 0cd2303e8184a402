// OpenAPI 3.1 generated from the routes' zod schemas (@fastify/swagger), Swagger UI at /docs.
import { createRequire } from 'node:module';

import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { createJsonSchemaTransform, createJsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { NoContent } from '../contract/common.js';
import { NAMED_ANSWER_SCHEMAS } from '../contract/index.js';
import { METHODS } from '../domain/methods.js';
import { OPTION_BY_KEY } from '../domain/run-options.js';
import { RUN_REQUEST_SCHEMAS } from '../domain/run-request.js';
import { YAML_CONTENT_TYPES } from './yaml-body-parser.js';

export const DOCS_PATH = '/docs';

/** Routes that need no token; documented with `security: []`. Kept in step with auth.ts. */
const OPEN_ROUTES = new Set(['/healthz', '/readyz', '/login', '/logout']);
/** Browser pages and their assets: not part of the API. */
const HIDDEN_PREFIXES = ['/ui', '/admin/queues', DOCS_PATH];

/**
 * Documentation metadata, kept out of zod's global registry: schemas with an id become components/schemas entries
 * (so the spec stays small and readable), the others just carry descriptions or formats.
 */
const registry = z.registry<{
  id?: string;
  description?: string;
  format?: string;
  contentMediaType?: string;
}>();
const doc = <T extends z.ZodType>(
  schema: T,
  meta: { description?: string; format?: string; contentMediaType?: string },
): T => {
  registry.add(schema, meta);
  return schema;
};
for (const method of METHODS) {
  registry.add(RUN_REQUEST_SCHEMAS[method], {
    id: `RunRequest_${method}`,
    description: `A run request for method ${method}`,
  });
}

for (const [id, schema] of Object.entries(NAMED_ANSWER_SCHEMAS)) registry.add(schema, { id });
registry.add(NoContent, { description: 'No content' });

const ErrorBody = z.object({
  error: doc(z.string(), {
    description: 'Stable machine-readable code: invalid_request, unauthorized, payload_too_large, ...',
  }),
  message: z.string(),
  issues: doc(z.array(z.object({ path: z.string(), message: z.string() })), {
    description: 'Each names a field',
  }).optional(),
  problems: doc(
    z.array(z.object({ file: z.string(), line: z.number().int().nullable(), message: z.string() })),
    {
      description: 'Each names a dataset file and line',
    },
  ).optional(),
  workers: doc(z.record(z.string(), z.string()), {
    description: 'does_not_fit / cannot_place: why each registered worker cannot train the run',
  }).optional(),
});
registry.add(ErrorBody, { id: 'Error', description: 'Every 4xx answer' });
const jsonlFile = () => doc(z.string(), { format: 'binary', contentMediaType: 'application/jsonl' });

/**
 * Documentation-only bodies, by "METHOD url". POST /v1/runs validates `z.unknown()` with parseRunRequest (better
 * messages than a union would give); its documented body is the union of the per-method schemas, keyed by method.
 */
const DOC_OVERRIDES: Record<string, Record<string, unknown>> = {
  'POST /v1/runs': {
    body: z.discriminatedUnion(
      'method',
      METHODS.map((m) => RUN_REQUEST_SCHEMAS[m]) as unknown as [
        typeof RUN_REQUEST_SCHEMAS.sft,
        ...(typeof RUN_REQUEST_SCHEMAS.sft)[],
      ],
    ),
    consumes: ['application/json', ...YAML_CONTENT_TYPES],
  },
  'POST /v1/datasets': {
    body: z.object({
      'train.jsonl': jsonlFile(),
      'valid.jsonl': jsonlFile().optional(),
      'test.jsonl': jsonlFile().optional(),
      name: z.string().max(200).optional(),
      method: doc(z.enum(METHODS), {
        description: 'Validate for this method; without it only the JSONL format is checked',
      }).optional(),
      batch_size: doc(z.number().int().min(1), {
        description: 'Row minimum checked with method (default 1)',
      }).optional(),
    }),
    consumes: ['multipart/form-data'],
  },
};

function methodsOf(route: { method?: string | string[] }): string[] {
  const m = route.method ?? [];
  return Array.isArray(m) ? m : [m];
}

function createTransform() {
  const zodTransform = createJsonSchemaTransform({ schemaRegistry: registry });
  return (doc: Parameters<typeof zodTransform>[0] & { route?: { method?: string | string[] } }) => {
    const { url } = doc;
    if (HIDDEN_PREFIXES.some((p) => url === p || url.startsWith(`${p}/`)))
      return { schema: { hide: true }, url };
    const schema = { ...(doc.schema ?? {}) } as Record<string, unknown>;
    for (const method of methodsOf(doc.route ?? {})) Object.assign(schema, DOC_OVERRIDES[`${method} ${url}`]);
    if (!schema.hide) schema.response = { '4XX': ErrorBody, ...(schema.response as object | undefined) };
    if (OPEN_ROUTES.has(url)) schema.security = [];
    const out = zodTransform({ ...doc, schema });
    const body = (out.schema as { body?: { oneOf?: { $ref?: string }[] } }).body;
    if (body?.oneOf && url === '/v1/runs') {
      const mapping = Object.fromEntries(METHODS.map((m, i) => [m, body.oneOf![i]!.$ref!]));
      Object.assign(body, { discriminator: { propertyName: 'method', mapping } });
    }
    return out;
  };
}

/** Each run request property gets its option's description from the catalogue (what GET /v1/methods says). */
function describeRunOptions(schemas: Record<string, unknown>): void {
  for (const [name, schema] of Object.entries(schemas)) {
    if (!name.startsWith('RunRequest_')) continue;
    const props = (schema as { properties?: Record<string, Record<string, unknown>> }).properties ?? {};
    for (const [key, prop] of Object.entries(props)) {
      const description = OPTION_BY_KEY.get(key)?.description;
      if (description && prop.description === undefined) prop.description = description;
    }
  }
}

/** Every "#/components/schemas/<name>" a value mentions. */
function refsIn(value: unknown, into: Set<string>): Set<string> {
  const text = JSON.stringify(value) ?? '';
  for (const m of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) into.add(m[1]!);
  return into;
}

/** The components the zod registry yields (an input and an output form of each), minus those nothing uses. */
function createTransformObject() {
  const zodTransformObject = createJsonSchemaTransformObject({ schemaRegistry: registry });
  return (input: Parameters<typeof zodTransformObject>[0]) => {
    const document = zodTransformObject(input) as {
      paths?: unknown;
      components?: { schemas?: Record<string, unknown> };
    };
    const schemas = document.components?.schemas ?? {};
    const used = refsIn(document.paths, new Set());
    for (let before = -1; before !== used.size;) {
      before = used.size;
      for (const name of [...used]) refsIn(schemas[name], used);
    }
    for (const name of Object.keys(schemas)) if (!used.has(name)) delete schemas[name];
    describeRunOptions(schemas);
    return document as ReturnType<typeof zodTransformObject>;
  };
}

function packageVersion(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
  } catch {
    return '0.0.0'; // a build without package.json next to it: the spec still validates
  }
}

/** Must be registered before the routes: @fastify/swagger collects them as they are added. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'mlx-train-queue',
        version: packageVersion(),
        description:
          'Queue mlx-lm-lora fine-tuning runs. With API_TOKEN set, every route but /healthz, /readyz and /login needs ' +
          '`Authorization: Bearer <token>`. Errors are `{error, message, issues?, problems?}`.',
      },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearerAuth: [] }],
    },
    transform: createTransform(),
    transformObject: createTransformObject(),
  });
}

/** Swagger UI; its own routes stay out of the spec. */
export async function registerDocsUi(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwaggerUi, { routePrefix: DOCS_PATH });
}
