// Maps domain error codes, validation and Fastify errors to HTTP in one place; hides 5xx details from clients.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

import {
  DatasetValidationError,
  DomainError,
  MemoryDoesNotFitError,
  RequestValidationError,
} from '../domain/errors.js';

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  invalid_request: 400,
  invalid_dataset: 422,
  does_not_fit: 422,
  cannot_place: 422,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  invalid_transition: 409,
  stale_attempt: 409,
  limit_exceeded: 429,
  unavailable: 503,
};

export interface ErrorBody {
  error: string;
  message: string;
  issues?: { path: string; message: string }[];
  problems?: { file: string; line: number | null; message: string }[];
  report?: unknown;
  memory?: unknown;
  suggestions?: unknown[];
  workers?: Record<string, string>;
}

export function statusFor(error: DomainError): number {
  return STATUS_BY_CODE[error.code] ?? 500;
}

function domainBody(error: DomainError): ErrorBody {
  const body: ErrorBody = { error: error.code, message: error.message };
  if (error instanceof RequestValidationError) body.issues = error.issues;
  if (error instanceof DatasetValidationError) {
    body.problems = error.problems;
    body.report = error.report;
  }
  if (error instanceof MemoryDoesNotFitError) {
    body.memory = error.memory;
    body.suggestions = error.suggestions;
    if (Object.keys(error.workers).length > 0) body.workers = error.workers;
  }
  return body;
}

function fastifyCode(error: FastifyError): string {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'payload_too_large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'unsupported_media_type';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'invalid_json';
    default:
      return error.statusCode === 429 ? 'rate_limited' : 'bad_request';
  }
}

export function errorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  if (error instanceof DomainError) {
    const status = statusFor(error);
    if (status === 500) {
      request.log.error({ err: error }, 'domain error without an HTTP mapping');
      return reply.status(500).send({ error: 'internal', message: 'Internal error' });
    }
    // A mapped 503 (Redis down) says what is wrong and what to do; only unmapped errors are hidden.
    if (status >= 500) request.log.warn({ err: error }, error.message);
    return reply.status(status).send(domainBody(error));
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => ({
      path: [error.validationContext, ...v.instancePath.split('/').filter(Boolean)].filter(Boolean).join('.'),
      message: v.message ?? 'is invalid',
    }));
    return reply.status(400).send({ error: 'invalid_request', message: 'Invalid request', issues });
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const body: ErrorBody = { error: fastifyCode(error), message: error.message };
    if (error.validation) {
      body.issues = error.validation.map((v) => ({
        path: [error.validationContext, ...v.instancePath.split('/').filter(Boolean)]
          .filter(Boolean)
          .join('.'),
        message: v.message ?? 'is invalid',
      }));
    }
    return reply.status(status).send(body);
  }
  request.log.error({ err: error }, 'unhandled error');
  return reply.status(500).send({ error: 'internal', message: 'Internal error' });
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply
    .status(404)
    .send({ error: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]}` });
}
