// Webhook routes: add, list, show and delete endpoints, and each endpoint's deliveries with every attempt.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { IdParams, NoContent } from '../../contract/common.js';
import { WebhookDeliveries, WebhookList, WebhookView } from '../../contract/webhooks.js';
import {
  createWebhook,
  deleteWebhook,
  type Delivery,
  getWebhook,
  listDeliveries,
  listWebhooks,
  type Webhook,
} from '../../db/webhooks-repository.js';
import { NotFoundError } from '../../domain/errors.js';
import { WEBHOOK_EVENTS } from '../../domain/webhooks.js';
import type { AppDeps } from '../app.js';

const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : null);

/** An endpoint as the API shows it: the secret itself never leaves the server. */
function webhookView(w: Webhook): WebhookView {
  return {
    id: w.id,
    url: w.url,
    events: w.events,
    hasSecret: w.secret !== null,
    createdAt: iso(w.createdAt),
  };
}

function deliveryView(d: Delivery) {
  return {
    id: d.id,
    event: d.event,
    subject: d.subject,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? iso(d.nextAttemptAt) : null,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    createdAt: iso(d.createdAt),
    deliveredAt: iso(d.deliveredAt),
    log: d.log.map((a) => ({ ...a, at: iso(a.at) })),
  };
}

function requireWebhook(deps: AppDeps, id: string): Webhook {
  const w = getWebhook(deps.db, id);
  if (!w) throw new NotFoundError('Webhook', id);
  return w;
}

export const webhookRoutes: FastifyPluginAsyncZod<AppDeps> = async (app, deps) => {
  app.post(
    '/v1/webhooks',
    {
      schema: {
        body: z.strictObject({
          url: z
            .url()
            .max(2048)
            .refine((u) => /^https?:\/\//i.test(u), 'must be an http:// or https:// URL'),
          events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length).optional(),
          secret: z.string().min(8, 'use at least 8 characters').max(512).optional(),
        }),
        response: { 201: WebhookView },
      },
    },
    async (req, reply) => {
      const { url, events, secret } = req.body;
      const w = createWebhook(deps.db, {
        url,
        events: [...new Set(events ?? WEBHOOK_EVENTS)],
        secret: secret ?? null,
      });
      return reply.status(201).send(webhookView(w));
    },
  );

  app.get('/v1/webhooks', { schema: { response: { 200: WebhookList } } }, async () => ({
    items: listWebhooks(deps.db).map(webhookView),
  }));

  app.get('/v1/webhooks/:id', { schema: { params: IdParams, response: { 200: WebhookView } } }, async (req) =>
    webhookView(requireWebhook(deps, req.params.id)),
  );

  app.delete(
    '/v1/webhooks/:id',
    { schema: { params: IdParams, response: { 204: NoContent } } },
    async (req, reply) => {
      if (!deleteWebhook(deps.db, req.params.id)) throw new NotFoundError('Webhook', req.params.id);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      schema: {
        params: IdParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
        response: { 200: WebhookDeliveries },
      },
    },
    async (req) => {
      const w = requireWebhook(deps, req.params.id);
      return {
        webhook: webhookView(w),
        items: listDeliveries(deps.db, w.id, req.query.limit).map(deliveryView),
      };
    },
  );
};
