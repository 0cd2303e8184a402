// Webhook endpoints and their delivery outbox: create/list/delete, enqueue in a run's final transaction, claim due rows.
import { and, asc, desc, eq, inArray, lte, sql } from 'drizzle-orm';

import { newId } from '../domain/ids.js';
import type { Run } from '../domain/run.js';
import type { FinalRunStatus } from '../domain/run-status.js';
import {
  type DeliveryAttempt,
  type DeliveryStatus,
  runEvent,
  type WebhookEvent,
} from '../domain/webhooks.js';
import type { Db } from './client.js';
import { webhookDeliveries, webhooks } from './schema.js';
import { getSweep } from './sweeps-repository.js';

export type Webhook = typeof webhooks.$inferSelect;
export type Delivery = typeof webhookDeliveries.$inferSelect;

export function createWebhook(
  db: Db,
  input: { url: string; events: WebhookEvent[]; secret: string | null; id?: string },
  now = Date.now(),
): Webhook {
  return db
    .insert(webhooks)
    .values({
      id: input.id ?? newId('wh'),
      url: input.url,
      events: input.events,
      secret: input.secret,
      createdAt: now,
    })
    .returning()
    .get();
}

/** Keeps a settings-defined endpoint (WEBHOOK_URL, NOTIFY_DESKTOP) in step with the settings: present or gone. */
export function syncWebhook(
  db: Db,
  id: string,
  wanted: { url: string; events: WebhookEvent[]; secret: string | null } | null,
): void {
  if (wanted === null) {
    db.delete(webhooks).where(eq(webhooks.id, id)).run();
    return;
  }
  db.insert(webhooks)
    .values({ id, ...wanted, createdAt: Date.now() })
    .onConflictDoUpdate({
      target: webhooks.id,
      set: { url: wanted.url, events: wanted.events, secret: wanted.secret },
    })
    .run();
}

export function listWebhooks(db: Db): Webhook[] {
  return db.select().from(webhooks).orderBy(asc(webhooks.createdAt), asc(webhooks.id)).all();
}

export function getWebhook(db: Db, id: string): Webhook | undefined {
  return db.select().from(webhooks).where(eq(webhooks.id, id)).get();
}

/** Deletes the endpoint and its deliveries; false when there was none. */
export function deleteWebhook(db: Db, id: string): boolean {
  return db.delete(webhooks).where(eq(webhooks.id, id)).run().changes > 0;
}

function enqueue(db: Db, event: WebhookEvent, subject: string, now: number): void {
  const targets = listWebhooks(db).filter((w) => w.events.includes(event));
  if (targets.length === 0) return;
  db.insert(webhookDeliveries)
    .values(
      targets.map((w) => ({
        id: newId('dl'),
        webhookId: w.id,
        event,
        subject,
        nextAttemptAt: now,
        createdAt: now,
      })),
    )
    .run();
}

/** The final-status hook: one outbox row per endpoint for run.<status>, and sweep.done once when the sweep is done. */
export function enqueueFinalStatusNotices(
  db: Db,
  event: { run: Run & { status: FinalRunStatus }; at: number },
): void {
  const { run, at } = event;
  enqueue(db, runEvent(run.status), run.id, at);
  // sweep.done once, when the sweep-completion hook (run before this one) has just marked the sweep done.
  if (run.sweepId === null || getSweep(db, run.sweepId)?.status !== 'done') return;
  const sent = db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.subject, run.sweepId), eq(webhookDeliveries.event, 'sweep.done')))
    .get();
  if (!sent) enqueue(db, 'sweep.done', run.sweepId, at);
}

/** In a follow-up job's final transaction: job.succeeded / job.failed (a cancelled job sends nothing). */
export function enqueueJobNotice(db: Db, job: { id: string; status: string }, at: number): void {
  if (job.status === 'succeeded' || job.status === 'failed') enqueue(db, `job.${job.status}`, job.id, at);
}

/**
 * Takes up to `limit` due deliveries for one dispatcher: their next_attempt_at moves `leaseMs` ahead in the same
 * statement, so another dispatcher (or this one's next tick) does not send them too.
 */
export function claimDueDeliveries(
  db: Db,
  now: number,
  leaseMs: number,
  limit: number,
): (Delivery & { url: string; secret: string | null })[] {
  const due = db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, now)))
    .orderBy(asc(webhookDeliveries.nextAttemptAt))
    .limit(limit)
    .all()
    .map((r) => r.id);
  if (due.length === 0) return [];
  const claimed = db
    .update(webhookDeliveries)
    .set({ nextAttemptAt: now + leaseMs })
    .where(
      and(
        inArray(webhookDeliveries.id, due),
        eq(webhookDeliveries.status, 'pending'),
        lte(webhookDeliveries.nextAttemptAt, now),
      ),
    )
    .returning()
    .all();
  const endpoints = new Map(listWebhooks(db).map((w) => [w.id, w]));
  return claimed.flatMap((d) => {
    const w = endpoints.get(d.webhookId);
    return w ? [{ ...d, url: w.url, secret: w.secret }] : [];
  });
}

/** Keeps the rendered body (the bytes every retry sends and signs). */
export function setDeliveryBody(db: Db, id: string, body: string): void {
  db.update(webhookDeliveries).set({ body }).where(eq(webhookDeliveries.id, id)).run();
}

export function recordDeliveryAttempt(
  db: Db,
  id: string,
  attempt: DeliveryAttempt,
  next: { status: DeliveryStatus; nextAttemptAt: number | null },
): void {
  db.update(webhookDeliveries)
    .set({
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      status: next.status,
      nextAttemptAt: next.nextAttemptAt ?? attempt.at,
      lastStatusCode: attempt.statusCode,
      lastError: attempt.error,
      log: sql`json_insert(${webhookDeliveries.log}, '$[#]', json(${JSON.stringify(attempt)}))`,
      deliveredAt: next.status === 'delivered' ? attempt.at : null,
    })
    .where(eq(webhookDeliveries.id, id))
    .run();
}

export function listDeliveries(db: Db, webhookId: string, limit = 100): Delivery[] {
  return db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.webhookId, webhookId))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit)
    .all();
}
