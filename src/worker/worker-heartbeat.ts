// Keeps this worker's registry entry fresh: publishes it every WORKER_HEARTBEAT_S and at once when its state changes.
import os from 'node:os';

import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

import type { WorkerEntry } from '../domain/worker-entry.js';
import { entryLifetimeMs, publishWorker, removeWorker } from '../shared/worker-registry.js';
import { freeDiskBytes, type MachineFacts } from './machine-facts.js';

export interface HeartbeatDeps {
  redis: Redis;
  prefix: string;
  heartbeatMs: number;
  /** WORKER_LOST_S: the entry outlives it, so the API can show this worker lost when it stops beating. */
  lostMs: number;
  /** Chip, OS, memory and labels, read once at start. */
  facts: MachineFacts;
  /** The DATA_DIR whose disk's free space each beat reports. */
  dataDir: string;
  logger: Logger;
  /** The entry as it is now (state, run, versions, and any field a later version adds); host, pid, machine facts, disk and times are filled in here. */
  snapshot: () => Pick<WorkerEntry, 'name' | 'versions' | 'state' | 'runId' | 'reason'> & {
    [extra: string]: unknown;
  };
}

export interface Heartbeat {
  /** Publishes now (after a state change); waits for a publish already under way instead of stacking another. */
  beat(): Promise<void>;
  /** Stops beating; `leave` removes the entry (a clean stop) instead of letting it expire. */
  stop(leave: boolean): Promise<void>;
}

export function startHeartbeat(deps: HeartbeatDeps): Heartbeat {
  const startedAt = Date.now();
  let inFlight: Promise<void> | null = null;
  let failing = false;
  const publish = async () => {
    const freeDisk = await freeDiskBytes(deps.dataDir);
    const entry: WorkerEntry = {
      host: os.hostname(),
      pid: process.pid,
      ...deps.facts,
      freeDiskBytes: freeDisk,
      startedAt,
      lastSeen: Date.now(),
      ...deps.snapshot(),
    };
    try {
      await publishWorker(deps.redis, deps.prefix, entry, entryLifetimeMs(deps.heartbeatMs, deps.lostMs));
      if (failing) deps.logger.info('worker registry reachable again');
      failing = false;
    } catch (err) {
      // Logged once per outage; the entry expires meanwhile and comes back with the next beat.
      if (!failing)
        deps.logger.warn({ err: (err as Error).message }, 'could not publish the worker registry entry');
      failing = true;
    }
  };
  const beat = () => (inFlight ??= publish().finally(() => (inFlight = null)));
  const timer = setInterval(() => void beat(), deps.heartbeatMs);
  timer.unref();
  void beat();
  return {
    beat,
    async stop(leave) {
      clearInterval(timer);
      await inFlight;
      if (leave)
        await removeWorker(deps.redis, deps.prefix, deps.snapshot().name).catch((err: unknown) =>
          deps.logger.warn({ err }, 'could not remove the worker registry entry'),
        );
    },
  };
}
