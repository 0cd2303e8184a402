// Time-sortable ids for runs, sweeps and workers: newest sort last, so cursors can page by id.
import { randomBytes } from 'node:crypto';

export function newId(prefix: 'run' | 'swp' | 'wkr'): string {
  return `${prefix}_${Date.now().toString(36).padStart(9, '0')}${randomBytes(5).toString('hex')}`;
}
