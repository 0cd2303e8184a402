// Webhook subscriptions and their deliveries (the outbox the dispatcher works through).
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

import type { DeliveryAttempt, DeliveryStatus, WebhookEvent } from '../../domain/webhooks.js';

export const webhooks = sqliteTable('webhooks', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  events: text('events', { mode: 'json' }).$type<WebhookEvent[]>().notNull(),
  /** HMAC-SHA256 key of X-Mlxq-Signature; never returned by the API. */
  secret: text('secret'),
  createdAt: integer('created_at').notNull(),
});

/**
 * The notification outbox: rows are written in the transaction that makes a run final, and a dispatcher outside it
 * sends them (retries with backoff; pending rows survive restarts). `body` is rendered at the first attempt and
 * kept, so every retry sends (and signs) the same bytes.
 */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    webhookId: text('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    event: text('event').$type<WebhookEvent>().notNull(),
    /** The run or sweep the event is about. */
    subject: text('subject').notNull(),
    body: text('body'),
    status: text('status').$type<DeliveryStatus>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** When the next attempt is due; also the lease of the dispatcher sending it now. */
    nextAttemptAt: integer('next_attempt_at').notNull(),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    /** Every attempt: {at, statusCode, error, ms}. */
    log: text('log', { mode: 'json' }).$type<DeliveryAttempt[]>().notNull().default([]),
    createdAt: integer('created_at').notNull(),
    deliveredAt: integer('delivered_at'),
  },
  (t) => [
    index('webhook_deliveries_due_idx').on(t.status, t.nextAttemptAt),
    index('webhook_deliveries_webhook_idx').on(t.webhookId, t.createdAt),
    index('webhook_deliveries_subject_idx').on(t.subject, t.event),
  ],
);

/**
 * Credentials of workers on other Macs (POST /v1/workers). Only the SHA-256 of the token is kept: the token is
 * shown once, and a revoked row stays (revoked_at set) so its calls keep getting 401 and the history names it.
 */
