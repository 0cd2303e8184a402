// The answers of the health routes: liveness and readiness (Redis and SQLite).
import { z } from 'zod';

export const Health = z.strictObject({ status: z.literal('ok') });
export type Health = z.infer<typeof Health>;

const Check = z.strictObject({ ok: z.boolean(), error: z.string().optional() });

/** 200 ready, 503 when Redis or SQLite does not answer; each check says which. */
export const Readiness = z.strictObject({
  status: z.enum(['ready', 'unavailable']),
  checks: z.record(z.string(), Check),
});
export type Readiness = z.infer<typeof Readiness>;
