// Drizzle table definitions for the run history, one file per group of tables under schema/; drizzle-kit reads this
// file (drizzle.config.ts) and generates migrations/ from it.
//
// Times are integer milliseconds since the epoch. JSON columns use drizzle's json mode, so rows arrive parsed.
export * from './schema/datasets.js';
export * from './schema/jobs.js';
export * from './schema/run-output.js';
export * from './schema/runs.js';
export * from './schema/webhooks.js';
export * from './schema/workers.js';
