// pino options shared by the API and the worker.
import { type Logger, type LoggerOptions, pino } from 'pino';

import type { Config } from './config.js';

export function loggerOptions(config: Pick<Config, 'logLevel'>, name: string): LoggerOptions {
  return { level: config.logLevel, name, redact: ['req.headers.authorization', 'req.headers.cookie'] };
}

export function createLogger(config: Pick<Config, 'logLevel'>, name: string): Logger {
  return pino(loggerOptions(config, name));
}
