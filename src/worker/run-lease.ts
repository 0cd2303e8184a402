// The run lease: a file in the run folder naming the worker process that holds the run and its BullMQ lock token,
// so another worker can tell a live owner from a dead one without Redis (whose lock may expire in an outage).
import fs from 'node:fs/promises';
import os from 'node:os';

import { z } from 'zod';

import { leaseFileOf } from '../domain/run-folder.js';
import { processRunning, processStartTime } from './process-info.js';

/** A lease from another host is alive while its heartbeat is fresher than this (its pid means nothing here). */
export const LEASE_STALE_MS = 2 * 60_000;
export const LEASE_HEARTBEAT_MS = 15_000;

/** Who this worker process is: host, pid and the pid's start time (a pid alone is reused after a reboot). */
export interface WorkerIdentity {
  host: string;
  pid: number;
  pidStartedAt: string | null;
  workerName: string;
}

const leaseSchema = z.object({
  host: z.string(),
  pid: z.number().int(),
  pidStartedAt: z.string().nullable(),
  workerName: z.string(),
  lockToken: z.string().nullable(),
  at: z.number(),
});
export type RunLease = z.infer<typeof leaseSchema> & { heartbeatAt: number };

export async function workerIdentity(workerName: string): Promise<WorkerIdentity> {
  return {
    host: os.hostname(),
    pid: process.pid,
    pidStartedAt: await processStartTime(process.pid),
    workerName,
  };
}

/** Written (atomically: temp file + rename) before the run moves to running. */
export async function writeLease(
  runDir: string,
  self: WorkerIdentity,
  lockToken: string | null,
): Promise<void> {
  const body = JSON.stringify({ ...self, lockToken, at: Date.now() });
  const tmp = `${leaseFileOf(runDir)}.${process.pid}.tmp`;
  await fs.mkdir(runDir, { recursive: true });
  await fs.writeFile(tmp, body);
  await fs.rename(tmp, leaseFileOf(runDir));
}

/** Touches the lease while the run trains; returns the function that stops it. `onProblem` hears failed touches. */
export function startLeaseHeartbeat(
  runDir: string,
  everyMs = LEASE_HEARTBEAT_MS,
  onProblem?: (message: string) => void,
): () => void {
  let failing = false;
  const timer = setInterval(() => {
    const now = new Date();
    // A failed touch makes the lease look older to workers on other hosts; the next touch retries. Said once.
    fs.utimes(leaseFileOf(runDir), now, now).then(
      () => (failing = false),
      (e: Error) => {
        if (!failing) onProblem?.(`could not refresh the run lease: ${e.message}`);
        failing = true;
      },
    );
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** The lease, or null when the run folder has none or it is unreadable. */
export async function readLease(runDir: string): Promise<RunLease | null> {
  try {
    const [text, stat] = await Promise.all([
      fs.readFile(leaseFileOf(runDir), 'utf8'),
      fs.stat(leaseFileOf(runDir)),
    ]);
    const parsed = leaseSchema.safeParse(JSON.parse(text));
    return parsed.success ? { ...parsed.data, heartbeatAt: stat.mtimeMs } : null;
  } catch {
    // Handled: a missing or torn lease means no owner can be named.
    return null;
  }
}

/**
 * Whether the worker named by the lease is still alive. On this host: its pid runs and started when the lease says
 * (so a pid reused after a crash or reboot does not count). This very process counts as alive: its own processor
 * settles its runs. On another host only the heartbeat can tell.
 */
export async function leaseOwnerAlive(
  lease: RunLease | null,
  self: WorkerIdentity,
  now = Date.now(),
): Promise<boolean> {
  if (!lease) return false;
  if (lease.host !== self.host) return now - lease.heartbeatAt < LEASE_STALE_MS;
  if (lease.pid === self.pid) return lease.pidStartedAt === self.pidStartedAt;
  if (!(await processRunning(lease.pid))) return false;
  const startedAt = await processStartTime(lease.pid);
  return lease.pidStartedAt === null || startedAt === lease.pidStartedAt;
}

/** Whether the lease names this very worker (a process may run more than one: a test environment, an embedder). */
export function isOwnLease(lease: RunLease | null, self: WorkerIdentity): boolean {
  return (
    lease !== null &&
    lease.host === self.host &&
    lease.pid === self.pid &&
    lease.workerName === self.workerName
  );
}

export function describeOwner(lease: RunLease | null): string {
  return lease ? `${lease.workerName} (pid ${lease.pid} on ${lease.host})` : 'an unknown worker';
}
