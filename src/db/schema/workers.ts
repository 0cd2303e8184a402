// Remote workers' credentials: hashed tokens, one row per named worker.
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

export const workerCredentials = sqliteTable(
  'worker_credentials',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    labels: text('labels', { mode: 'json' }).$type<string[]>().notNull().default([]),
    tokenHash: text('token_hash').notNull(),
    createdAt: integer('created_at').notNull(),
    revokedAt: integer('revoked_at'),
    lastUsedAt: integer('last_used_at'),
  },
  (t) => [index('worker_credentials_name_idx').on(t.name)],
);
