// The job kinds whose delivery the reconciler guarantees from SQLite; a new kind with its own table adds its source.
import { FOLLOW_UP_SOURCES } from './follow-up-source.js';
import type { ReconcileSource } from './queue-reconciler.js';
import { trainSource } from './train-source.js';

export const RECONCILE_SOURCES: readonly ReconcileSource[] = [trainSource, ...FOLLOW_UP_SOURCES];
