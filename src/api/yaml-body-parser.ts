// The API's YAML content types: a YAML body is parsed (src/domain/yaml-body.ts) into the value routes validate.
import type { FastifyInstance } from 'fastify';

import { RequestValidationError } from '../domain/errors.js';
import { parseYamlBody } from '../domain/yaml-body.js';

export const YAML_CONTENT_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];

/** Registers the YAML content types: the body becomes the parsed value, with its source remembered for lines. */
export function registerYamlBodyParser(app: FastifyInstance): void {
  app.addContentTypeParser(YAML_CONTENT_TYPES, { parseAs: 'string' }, (_req, body, done) => {
    try {
      const { value } = parseYamlBody(body as string);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new RequestValidationError([
          { path: '', message: 'the YAML body must be a mapping of key: value' },
        ]);
      }
      done(null, value);
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}
