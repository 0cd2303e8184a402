// Starts notifications beside the API: the settings' endpoints (WEBHOOK_URL, NOTIFY_DESKTOP) kept in SQLite, and
// the dispatcher that sends the outbox.
import type { Logger } from 'pino';

import type { Db } from '../db/client.js';
import { syncWebhook } from '../db/webhooks-repository.js';
import { WEBHOOK_EVENTS } from '../domain/webhooks.js';
import type { Config } from '../shared/config.js';
import { DESKTOP_URL, type Dispatcher, startWebhookDispatcher } from './webhook-dispatcher.js';

export const ENV_WEBHOOK_ID = 'wh_env';
export const DESKTOP_WEBHOOK_ID = 'wh_desktop';

/** The endpoints the settings define, present exactly while the settings ask for them. Desktop needs macOS. */
export function syncSettingsEndpoints(
  db: Db,
  config: Config,
  platform: NodeJS.Platform = process.platform,
): void {
  const events = [...WEBHOOK_EVENTS];
  syncWebhook(
    db,
    ENV_WEBHOOK_ID,
    config.webhookUrl ? { url: config.webhookUrl, events, secret: config.webhookSecret ?? null } : null,
  );
  syncWebhook(
    db,
    DESKTOP_WEBHOOK_ID,
    config.notifyDesktop && platform === 'darwin' ? { url: DESKTOP_URL, events, secret: null } : null,
  );
}

export function startNotifications(
  db: Db,
  config: Config,
  logger: Logger,
  opts: { desktopCommand?: string; platform?: NodeJS.Platform } = {},
): Dispatcher {
  syncSettingsEndpoints(db, config, opts.platform);
  if (config.notifyDesktop && (opts.platform ?? process.platform) !== 'darwin')
    logger.warn('NOTIFY_DESKTOP is set, but desktop notifications need macOS (osascript); ignored');
  return startWebhookDispatcher({
    db,
    logger,
    publicUrl: config.publicUrl,
    timeoutMs: config.webhookTimeoutMs,
    retryBaseMs: config.webhookRetryBaseMs,
    desktopCommand: opts.desktopCommand,
  });
}
