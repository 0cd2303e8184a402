// Opaque keyset-pagination cursors: the (created_at, id) of the last row of a page, base64url-encoded.
import { RequestValidationError } from '../domain/errors.js';

export interface PageCursor {
  createdAt: number;
  id: string;
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

export function encodeCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt, cursor.id]), 'utf8').toString('base64url');
}

/** Throws RequestValidationError (path "cursor") for anything encodeCursor did not produce. */
export function decodeCursor(text: string): PageCursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined; // reported below, with the other malformed shapes
  }
  if (
    Array.isArray(parsed) &&
    parsed.length === 2 &&
    Number.isSafeInteger(parsed[0]) &&
    typeof parsed[1] === 'string'
  ) {
    return { createdAt: parsed[0] as number, id: parsed[1] };
  }
  throw new RequestValidationError([{ path: 'cursor', message: 'is not a cursor returned by this list' }]);
}

/** Given limit + 1 rows, returns the page and the cursor of its last row when another page exists. */
export function toPage<T extends PageCursor>(rows: T[], limit: number): Page<T> {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: last === undefined ? null : encodeCursor(last) };
}

export function assertLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RequestValidationError([{ path: 'limit', message: 'must be a positive integer' }]);
  }
}
