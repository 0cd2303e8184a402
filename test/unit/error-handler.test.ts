import { describe, expect, it } from 'vitest';

import { statusFor } from '../../src/api/error-handler.js';
import {
  ConflictError,
  DatasetValidationError,
  DomainError,
  LimitExceededError,
  NotFoundError,
  RequestValidationError,
  ServiceUnavailableError,
  UnauthorizedError,
} from '../../src/domain/errors.js';
import { InvalidTransitionError } from '../../src/domain/run-status.js';

describe('statusFor maps domain error codes to HTTP', () => {
  it.each([
    [new RequestValidationError([{ path: 'x', message: 'bad' }]), 400],
    [new DatasetValidationError([{ file: 'train.jsonl', line: 1, message: 'bad' }], {}), 422],
    [new UnauthorizedError(), 401],
    [new NotFoundError('Run', 'r1'), 404],
    [new ConflictError('busy'), 409],
    [new InvalidTransitionError('succeeded', 'running'), 409],
    [new LimitExceededError('full'), 429],
    [new ServiceUnavailableError('redis down'), 503],
    [new DomainError('something_new', 'unmapped'), 500],
  ])('%s', (error, status) => {
    expect(statusFor(error)).toBe(status);
  });

  it('names every field in a validation message', () => {
    const e = new RequestValidationError([
      { path: 'group_size', message: 'too small' },
      { path: 'temperature', message: 'must be > 0' },
    ]);
    expect(e.message).toMatch(/group_size: too small; temperature: must be > 0/);
  });
});
