// The answers of the webhook routes: an endpoint (never its secret), the list, and its deliveries with every attempt.
import { z } from 'zod';

import { DELIVERY_STATUSES, WEBHOOK_EVENTS } from '../domain/webhooks.js';
import { NullableIsoTime } from './common.js';

export const WebhookView = z.strictObject({
  id: z.string(),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENTS)),
  hasSecret: z.boolean(),
  createdAt: NullableIsoTime,
});
export type WebhookView = z.infer<typeof WebhookView>;

export const WebhookList = z.strictObject({ items: z.array(WebhookView) });

export const DeliveryView = z.strictObject({
  id: z.string(),
  event: z.enum(WEBHOOK_EVENTS),
  subject: z.string(),
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number().int(),
  nextAttemptAt: NullableIsoTime,
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: NullableIsoTime,
  deliveredAt: NullableIsoTime,
  log: z.array(
    z.strictObject({
      at: NullableIsoTime,
      statusCode: z.number().int().nullable(),
      error: z.string().nullable(),
      ms: z.number(),
    }),
  ),
});

export const WebhookDeliveries = z.strictObject({ webhook: WebhookView, items: z.array(DeliveryView) });
