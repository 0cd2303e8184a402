// Typed domain errors with stable codes; the API maps codes to HTTP status in one place.

/** One problem with a request field (path like "lora_parameters.rank") or a dataset line. */
export interface FieldIssue {
  path: string;
  message: string;
}

export interface FileIssue {
  file: string;
  line: number | null;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    super('not_found', `${what} ${id} was not found`);
  }
}

/** A status change the state machine forbids: a run's (run-status.ts) or a follow-up job's (follow-up-job.ts). */
export class InvalidTransitionError<S extends string = string> extends DomainError {
  constructor(
    readonly from: S,
    readonly to: S,
    subject: 'run' | 'job' = 'run',
  ) {
    super('invalid_transition', `A ${subject} cannot go from ${from} to ${to}`);
  }
}

export class ConflictError extends DomainError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** A request whose fields are wrong: every issue names its field path. */
export class RequestValidationError extends DomainError {
  constructor(
    readonly issues: FieldIssue[],
    message = `Invalid request: ${issues.map((i) => `${i.path || '(body)'}: ${i.message}`).join('; ')}`,
  ) {
    super('invalid_request', message);
  }
}

/** A dataset that cannot train: every problem names its file and line. */
export class DatasetValidationError extends DomainError {
  constructor(
    readonly problems: FileIssue[],
    readonly report: unknown,
  ) {
    super(
      'invalid_dataset',
      `Dataset has ${problems.length} problem(s): ${problems
        .slice(0, 3)
        .map((p) => `${p.file}${p.line ? `:${p.line}` : ''} ${p.message}`)
        .join('; ')}`,
    );
  }
}

export class ServiceUnavailableError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('unavailable', message, options);
  }
}

export class LimitExceededError extends DomainError {
  constructor(message: string) {
    super('limit_exceeded', message);
  }
}

export class UnauthorizedError extends DomainError {
  constructor(message = 'Missing or invalid bearer token') {
    super('unauthorized', message);
  }
}

/**
 * A run no registered worker could ever train (422): `does_not_fit` when memory is why (the estimate and the changes
 * that would fit travel with it), `cannot_place` when no worker meets its placement; `workers` gives each one's reasons.
 */
export class MemoryDoesNotFitError extends DomainError {
  constructor(
    message: string,
    readonly memory: unknown,
    readonly suggestions: unknown[],
    readonly workers: Record<string, string> = {},
    code: 'does_not_fit' | 'cannot_place' = 'does_not_fit',
  ) {
    super(code, message);
  }
}
