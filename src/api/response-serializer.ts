// Writes JSON answers as the routes build them. With `checkResponses` (the tests turn it on) each answer must also
// match the zod schema its route declares for the status, as a client would read it, or the request fails.
import type { FastifySchema } from 'fastify';
import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import { ResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';

/**
 * Without the check no schema runs on an answer (no cost, and a field added to a view without its schema still
 * goes out); the views are typed with the schemas' types, so the compiler holds them together, and the test
 * suite checks every answer it gets.
 */
export function createResponseSerializer(opts: { check: boolean }): FastifySerializerCompiler<FastifySchema> {
  return ({ schema, method, url, httpStatus }) => {
    const zodSchema = schema instanceof z.ZodType ? schema : undefined;
    return (data: unknown): string => {
      const json = JSON.stringify(data);
      if (opts.check && zodSchema) {
        // What the client parses: NaN and Infinity have become null, dates strings.
        const result = zodSchema.safeParse(json === undefined ? undefined : JSON.parse(json));
        if (!result.success) {
          const message = `${method} ${url} answered ${httpStatus ?? ''} outside its schema:\n${z.prettifyError(result.error)}`;
          console.error(message); // the client gets a bare 500; the test log shows why
          throw new ResponseSerializationError(method, url, { cause: result.error });
        }
      }
      return json;
    };
  };
}
