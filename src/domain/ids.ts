// Time-sortable ids for runs, sweeps, follow-up jobs, artifacts, webhooks and deliveries: newest sort last, so cursors can page by id.
import { randomBytes } from 'node:crypto';

export function newId(prefix: 'run' | 'swp' | 'job' | 'art' | 'wh' | 'dl' | 'wkr'): string {
  return `${prefix}_${Date.now().toString(36).padStart(9, '0')}${randomBytes(5).toString('hex')}`;
}
