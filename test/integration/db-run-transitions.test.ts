// Run status changes against a real migrated SQLite file: compare-and-set transitions (also across two
// connections), the transition table, attempt counts and times, and the attempts table.
import { describe, expect, it } from 'vitest';

import { closeDb, openDb } from '../../src/db/client.js';
import {
  finishAttempt,
  getRun,
  insertRun,
  listAttempts,
  listRunEvents,
  startAttempt,
  transitionRun,
  updateRunProgress,
} from '../../src/db/runs-repository.js';
import { ConflictError, NotFoundError } from '../../src/domain/errors.js';
import { InvalidTransitionError } from '../../src/domain/run-status.js';
import { newRun } from '../helpers/numbered-run.js';
import { useTempDb } from '../helpers/use-temp-db.js';

const t = useTempDb();

describe('transitionRun', () => {
  it('lets only the first of two transitions from the same status win; the second throws ConflictError', () => {
    const run = insertRun(t.db, newRun(1));
    const running = transitionRun(t.db, run.id, 'queued', 'running', { worker: 'w1' }, 'picked up');
    expect(running.status).toBe('running');
    expect(() => transitionRun(t.db, run.id, 'queued', 'cancelled', {}, 'user')).toThrow(ConflictError);
    expect(getRun(t.db, run.id)?.status).toBe('running');
    expect(listRunEvents(t.db, run.id).map((e) => [e.fromStatus, e.toStatus, e.reason])).toEqual([
      [null, 'queued', 'created'],
      ['queued', 'running', 'picked up'],
    ]);
  });

  it('detects a conflict across two connections to the same file (API and worker processes)', () => {
    const other = openDb(t.file);
    try {
      const run = insertRun(t.db, newRun(1));
      expect(getRun(other, run.id)?.status).toBe('queued');
      transitionRun(other, run.id, 'queued', 'cancelled', {}, 'cancelled by user');
      expect(() => transitionRun(t.db, run.id, 'queued', 'running')).toThrow(ConflictError);
      expect(getRun(t.db, run.id)?.status).toBe('cancelled');
    } finally {
      closeDb(other);
    }
  });

  it('accepts a list of from statuses and records the actual previous status in the event', () => {
    const run = insertRun(t.db, newRun(1));
    transitionRun(t.db, run.id, ['queued', 'running', 'interrupted'], 'cancelled', {}, 'user');
    const events = listRunEvents(t.db, run.id);
    expect(events.at(-1)).toMatchObject({ fromStatus: 'queued', toStatus: 'cancelled', reason: 'user' });
  });

  it('throws InvalidTransitionError before writing anything when the table forbids the move', () => {
    const run = insertRun(t.db, newRun(1));
    expect(() => transitionRun(t.db, run.id, 'queued', 'succeeded')).toThrow(InvalidTransitionError);
    expect(() => transitionRun(t.db, run.id, ['queued', 'succeeded'], 'cancelled')).toThrow(
      InvalidTransitionError,
    );
    expect(getRun(t.db, run.id)?.status).toBe('queued');
    expect(listRunEvents(t.db, run.id)).toHaveLength(1);
  });

  it('throws NotFoundError for an unknown run', () => {
    expect(() => transitionRun(t.db, 'missing', 'queued', 'running')).toThrow(NotFoundError);
  });

  it('counts attempts, keeps the first start time, and sets finish time and duration on a final status', () => {
    const run = insertRun(t.db, newRun(1));
    const first = transitionRun(t.db, run.id, 'queued', 'running');
    expect(first.attempt).toBe(1);
    expect(first.startedAt).not.toBeNull();
    updateRunProgress(t.db, run.id, { trainerPid: 4242 });
    const interrupted = transitionRun(t.db, run.id, 'running', 'interrupted', { stopReason: 'shutdown' });
    expect(interrupted.trainerPid).toBeNull();
    expect(interrupted.finishedAt).toBeNull();
    const requeued = transitionRun(t.db, run.id, 'interrupted', 'queued');
    expect(requeued.queuedAt).toBeGreaterThanOrEqual(run.queuedAt ?? 0);
    const second = transitionRun(t.db, run.id, 'queued', 'running');
    expect(second.attempt).toBe(2);
    expect(second.startedAt).toBe(first.startedAt);
    const done = transitionRun(t.db, run.id, 'running', 'succeeded', {
      adapterFile: 'adapters.safetensors',
      checkpoints: ['0000100_adapters.safetensors'],
      exitCode: 0,
    });
    expect(done).toMatchObject({
      status: 'succeeded',
      adapterFile: 'adapters.safetensors',
      exitCode: 0,
      attempt: 2,
    });
    expect(done.checkpoints).toEqual(['0000100_adapters.safetensors']);
    expect(done.finishedAt).not.toBeNull();
    expect(done.durationMs).toBe((done.finishedAt ?? 0) - (first.startedAt ?? 0));
    expect(listRunEvents(t.db, run.id).map((e) => `${e.fromStatus}->${e.toStatus}@${e.attempt}`)).toEqual([
      'null->queued@0',
      'queued->running@1',
      'running->interrupted@1',
      'interrupted->queued@1',
      'queued->running@2',
      'running->succeeded@2',
    ]);
  });

  it('lets the patch override the automatic fields', () => {
    const run = insertRun(t.db, newRun(1));
    const running = transitionRun(t.db, run.id, 'queued', 'running', { attempt: 7, startedAt: 1000 });
    expect(running).toMatchObject({ attempt: 7, startedAt: 1000 });
    const failed = transitionRun(t.db, run.id, 'running', 'failed', { finishedAt: 5000, error: 'boom' });
    expect(failed).toMatchObject({ finishedAt: 5000, durationMs: 4000, error: 'boom' });
  });

  it('does not let a cancelled run be cancelled twice', () => {
    const run = insertRun(t.db, newRun(1));
    transitionRun(t.db, run.id, ['queued', 'running'], 'cancelled');
    expect(() => transitionRun(t.db, run.id, ['queued', 'running'], 'cancelled')).toThrow(ConflictError);
  });
});

describe('attempts', () => {
  it('starts, finishes and lists attempts; refuses to start or finish one twice', () => {
    const run = insertRun(t.db, newRun(1));
    const running = transitionRun(t.db, run.id, 'queued', 'running');
    const a1 = startAttempt(t.db, { runId: run.id, attempt: running.attempt, worker: 'w1', startedAt: 10 });
    expect(a1).toMatchObject({
      runId: run.id,
      attempt: 1,
      worker: 'w1',
      startedAt: 10,
      finishedAt: null,
      outcome: null,
    });
    expect(() => startAttempt(t.db, { runId: run.id, attempt: 1, worker: 'w2' })).toThrow(ConflictError);
    const f1 = finishAttempt(t.db, run.id, 1, { outcome: 'interrupted', finishedAt: 20, signal: 'SIGTERM' });
    expect(f1).toMatchObject({ outcome: 'interrupted', finishedAt: 20, signal: 'SIGTERM', exitCode: null });
    expect(() => finishAttempt(t.db, run.id, 1, { outcome: 'failed' })).toThrow(ConflictError);
    startAttempt(t.db, {
      runId: run.id,
      attempt: 2,
      worker: 'w1',
      resumedFrom: '0000100_adapters.safetensors',
      startIteration: 100,
    });
    expect(
      listAttempts(t.db, run.id).map((a) => [a.attempt, a.outcome, a.resumedFrom, a.startIteration]),
    ).toEqual([
      [1, 'interrupted', null, null],
      [2, null, '0000100_adapters.safetensors', 100],
    ]);
  });
});
