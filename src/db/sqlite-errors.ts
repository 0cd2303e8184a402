// Recognises SQLite constraint failures (possibly wrapped by drizzle) so repositories can raise domain errors.

/** The SQLite extended result code (e.g. SQLITE_CONSTRAINT_UNIQUE) of an error or any error in its cause chain. */
export function sqliteErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
  }
  return undefined;
}

/** The message of the SQLite error in the cause chain, e.g. "UNIQUE constraint failed: runs.idempotency_key". */
export function sqliteErrorMessage(err: unknown): string {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return e.message;
  }
  return err instanceof Error ? err.message : String(err);
}

export function isUniqueViolation(err: unknown): boolean {
  const code = sqliteErrorCode(err);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** Attaches the underlying error to a domain error whose constructor takes no options. */
export function withCause<E extends Error>(error: E, cause: unknown): E {
  error.cause = cause;
  return error;
}
