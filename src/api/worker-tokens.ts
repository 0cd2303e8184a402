// Worker tokens: minted once per credential, stored only as a SHA-256, checked in constant time, revocable.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

import type { Db } from '../db/client.js';
import {
  getWorkerCredential,
  touchWorkerCredential,
  type WorkerCredential,
} from '../db/worker-credentials-repository.js';

/** `mlxqw.<worker id>.<43 base64url characters of 32 random bytes>`: the id finds the row, the secret proves it. */
const TOKEN_PATTERN = /^mlxqw\.(wkr_[0-9a-z]{9,40})\.([A-Za-z0-9_-]{43})$/;
const TOKEN_PREFIX = 'mlxqw.';

export function hashWorkerToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function mintWorkerToken(workerId: string): { token: string; tokenHash: string } {
  const token = `${TOKEN_PREFIX}${workerId}.${randomBytes(32).toString('base64url')}`;
  return { token, tokenHash: hashWorkerToken(token) };
}

/** Looks like a worker token (so a user route can refuse it by name instead of calling it a wrong API token). */
export function isWorkerTokenShaped(token: string): boolean {
  return token.startsWith(TOKEN_PREFIX);
}

export type WorkerTokenCheck = { ok: true; worker: WorkerCredential } | { ok: false; reason: string };

/**
 * The worker a token belongs to. The hash comparison is constant-time (timingSafeEqual over equal-length
 * digests); the row lookup is by the public id part, so timing tells nothing about the secret.
 */
export function checkWorkerToken(db: Db, token: string): WorkerTokenCheck {
  const m = TOKEN_PATTERN.exec(token);
  if (!m) return { ok: false, reason: 'Invalid worker token' };
  const row = getWorkerCredential(db, m[1]!);
  const given = Buffer.from(hashWorkerToken(token), 'hex');
  // A missing row is compared against a dummy digest so both paths cost the same.
  const expected = Buffer.from(row?.tokenHash ?? hashWorkerToken(''), 'hex');
  const match = timingSafeEqual(given, expected) && row !== undefined;
  if (!match) return { ok: false, reason: 'Invalid worker token' };
  if (row.revokedAt !== null) return { ok: false, reason: `Worker ${row.name} (${row.id}) was revoked` };
  touchWorkerCredential(db, row);
  return { ok: true, worker: row };
}
