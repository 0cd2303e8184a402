// Sends the notification outbox: claims due deliveries, POSTs them signed (or shows them on the Mac's desktop),
// records every attempt and schedules the next one. Runs beside the API, never on a worker's path.
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';

import type { Logger } from 'pino';

import type { Db } from '../db/client.js';
import {
  claimDueDeliveries,
  type Delivery,
  recordDeliveryAttempt,
  setDeliveryBody,
} from '../db/webhooks-repository.js';
import { afterAttempt, type AttemptResult, noticeTitle } from '../domain/webhooks.js';
import { renderNotice } from './notice-body.js';

/** The pseudo-URL of the desktop endpoint (NOTIFY_DESKTOP): shown with osascript instead of POSTed. */
export const DESKTOP_URL = 'desktop:';

export interface DispatcherOptions {
  db: Db;
  logger: Logger;
  publicUrl: string;
  timeoutMs: number;
  retryBaseMs: number;
  pollMs?: number;
  /** Deliveries in flight at once. */
  concurrency?: number;
  /** The program that shows desktop notifications (osascript; tests pass a stand-in). */
  desktopCommand?: string;
  random?: () => number;
}

export interface Dispatcher {
  /** Runs one claim-and-send pass now and waits for its sends (tests, shutdown). */
  tick(): Promise<void>;
  close(): Promise<void>;
}

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  stop: AbortSignal,
): Promise<AttemptResult> {
  try {
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), stop]);
    const res = await fetch(url, { method: 'POST', body, headers, signal, redirect: 'manual' });
    await res.body?.cancel().catch(() => undefined);
    return { statusCode: res.status, error: res.ok ? null : `HTTP ${res.status}` };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    const why =
      err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err.cause?.code ?? err.message);
    return { statusCode: null, error: why };
  }
}

function showOnDesktop(
  command: string,
  title: string,
  text: string,
  timeoutMs: number,
): Promise<AttemptResult> {
  const q = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  const script = `display notification ${q(text)} with title ${q(title)}`;
  return new Promise((resolve) => {
    execFile(command, ['-e', script], { timeout: timeoutMs }, (err) => {
      // The desktop answers like an endpoint would: 200, or no answer with the reason.
      resolve(
        err ? { statusCode: null, error: `${command}: ${err.message}` } : { statusCode: 200, error: null },
      );
    });
  });
}

export function startWebhookDispatcher(o: DispatcherOptions): Dispatcher {
  const pollMs = o.pollMs ?? 500;
  const concurrency = o.concurrency ?? 8;
  const random = o.random ?? Math.random;
  const inFlight = new Set<Promise<void>>();
  let closed = false;
  // Shutting down cuts sends short; their rows stay pending and are sent again once their lease has passed.
  const stop = new AbortController();

  async function send(d: Delivery & { url: string; secret: string | null }): Promise<void> {
    let body = d.body;
    if (body === null) {
      const notice = renderNotice(o.db, d, o.publicUrl);
      body = JSON.stringify(notice ?? { event: d.event, delivery: d.id, subject: d.subject, gone: true });
      setDeliveryBody(o.db, d.id, body);
    }
    const started = Date.now();
    let result: AttemptResult;
    if (d.url === DESKTOP_URL) {
      const parsed = JSON.parse(body) as {
        run?: { name: string | null; id: string; status: string; error: string | null };
        sweep?: { name: string | null; id: string };
      };
      const subject = parsed.run ?? parsed.sweep ?? { id: d.subject, name: null };
      result = await showOnDesktop(
        o.desktopCommand ?? 'osascript',
        'mlxq',
        `${noticeTitle(d.event, subject)}${parsed.run?.error ? ` — ${parsed.run.error}` : ''}`,
        o.timeoutMs,
      );
    } else {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'mlxq-webhooks',
        'x-mlxq-event': d.event,
        'x-mlxq-delivery': d.id,
      };
      if (d.secret) headers['x-mlxq-signature'] = signature(d.secret, body);
      result = await post(d.url, body, headers, o.timeoutMs, stop.signal);
    }
    if (stop.signal.aborted) return;
    const now = Date.now();
    const next = afterAttempt(result, d.attempts + 1, d.createdAt, now, o.retryBaseMs, random());
    recordDeliveryAttempt(
      o.db,
      d.id,
      { at: now, statusCode: result.statusCode, error: result.error, ms: now - started },
      next,
    );
    const log = o.logger.child({ delivery: d.id, webhook: d.webhookId, event: d.event });
    if (next.status === 'delivered') log.info('notification delivered');
    else log.warn({ statusCode: result.statusCode, error: result.error }, next.why);
  }

  const timer = setInterval(() => void claimAndSend(), pollMs);
  timer.unref();

  /** Claims what is due, up to the free slots, and starts sending; a slow endpoint holds only its own slot. */
  async function claimAndSend(): Promise<void> {
    if (closed) return;
    const room = concurrency - inFlight.size;
    if (room <= 0) return;
    try {
      for (const d of claimDueDeliveries(o.db, Date.now(), o.timeoutMs + 5000, room)) {
        const p = send(d)
          .catch((err: unknown) => o.logger.error({ err, delivery: d.id }, 'sending a notification failed'))
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    } catch (err) {
      o.logger.error({ err }, 'claiming notifications failed');
    }
  }

  return {
    async tick() {
      await claimAndSend();
      await Promise.all([...inFlight]);
    },
    async close() {
      closed = true;
      clearInterval(timer);
      stop.abort();
      await Promise.all([...inFlight]);
    },
  };
}
