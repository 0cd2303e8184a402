// The HTTP shape of the worker registry: each entry with its state in words, and why runs wait when none is usable.
import type { WorkersView, WorkerView } from '../contract/health.js';
import { describeWorkerState, isUsable, waitingReason, type WorkerEntry } from '../domain/worker-entry.js';

export function workerView(e: WorkerEntry): WorkerView {
  return {
    ...e,
    stateText: describeWorkerState(e),
    usable: isUsable(e),
    lost: e.state === 'lost',
    startedAt: new Date(e.startedAt).toISOString(),
    lastSeen: new Date(e.lastSeen).toISOString(),
  };
}

export function workersView(entries: readonly WorkerEntry[]): WorkersView {
  return {
    items: entries.map(workerView),
    usable: entries.filter(isUsable).length,
    waiting: waitingReason(entries),
  };
}
