// The answers of the health routes (liveness and readiness: Redis and SQLite) and of the worker list.
import { z } from 'zod';

import { workerEntrySchema } from '../domain/worker-entry.js';
import { IsoTime } from './common.js';

export const Health = z.strictObject({ status: z.literal('ok') });
export type Health = z.infer<typeof Health>;

const Check = z.strictObject({ ok: z.boolean(), error: z.string().optional() });

/** 200 ready, 503 when Redis or SQLite does not answer; each check says which. */
export const Readiness = z.strictObject({
  status: z.enum(['ready', 'unavailable']),
  checks: z.record(z.string(), Check),
  /** The workers, or why they could not be read. */
  workers: z.union([z.lazy(() => WorkersView), z.strictObject({ error: z.string() })]),
});
export type Readiness = z.infer<typeof Readiness>;

/**
 * A live worker as the API shows it (src/api/worker-view.ts): its registry entry (src/domain/worker-entry.ts) with
 * its state in words, whether it takes work, and its times as ISO strings. Open like the entry: fields a newer
 * worker publishes that this version does not know are listed as they came.
 */
export const WorkerView = workerEntrySchema.extend({
  /** `idle`, `training <run>`, `unusable: <reason>`, `stopping` or `lost: <why>`. */
  stateText: z.string(),
  usable: z.boolean(),
  lost: z.boolean(),
  startedAt: IsoTime,
  lastSeen: IsoTime,
});
export type WorkerView = z.infer<typeof WorkerView>;

/** GET /v1/workers: the registry's entries, how many are usable, and why runs would wait. */
export const WorkersView = z.strictObject({
  items: z.array(WorkerView),
  usable: z.number().int(),
  waiting: z.string().nullable(),
});
export type WorkersView = z.infer<typeof WorkersView>;

/** A worker credential (POST/DELETE /v1/workers): the token itself is answered once, by POST only. */
export const WorkerCredentialView = z.strictObject({
  id: z.string(),
  name: z.string(),
  labels: z.array(z.string()),
  createdAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
});
export type WorkerCredentialView = z.infer<typeof WorkerCredentialView>;

export const CreatedWorkerCredential = WorkerCredentialView.extend({ token: z.string() });
export type CreatedWorkerCredential = z.infer<typeof CreatedWorkerCredential>;

/** GET /v1/workers: the live workers of the registry, plus every credential made for workers on other Macs. */
export const WorkerList = WorkersView.extend({ registered: z.array(WorkerCredentialView) });
export type WorkerList = z.infer<typeof WorkerList>;
