// The worker-protocol tests' shared set-up: one env per file with two registered workers (mac-a and mac-b), runs
// inserted straight into its SQLite, and the worker routes called with a worker's token.
import { randomUUID } from 'node:crypto';
import path from 'node:path';

import { beforeAll } from 'vitest';

import { insertRun } from '../../src/db/runs-repository.js';
import { minimalNewRun } from './temp-db.js';
import { useTestEnv } from './use-test-env.js';

/** One stdout line of a log chunk. */
export const line = (seq: number, text: string) => ({ seq, stream: 'stdout' as const, text, at: 1 });

/** A log chunk of `attempt` at byte `offset`, its byte count that of the lines with their newlines. */
export const chunk = (attempt: number, offset: number, lines: ReturnType<typeof line>[]) => ({
  attempt,
  offset,
  bytes: lines.reduce((b, l) => b + Buffer.byteLength(l.text) + 1, 0),
  lines,
});

export function useWorkerProtocolEnv() {
  const env = useTestEnv({}, { perFile: true });
  /** The tokens of workers mac-a and mac-b, set before the file's tests. */
  const tokens = { macA: '', macB: '' };
  beforeAll(async () => {
    const mk = async (name: string) =>
      (await env.app.inject({ method: 'POST', url: '/v1/workers', payload: { name } })).json<{
        token: string;
      }>().token;
    tokens.macA = await mk('mac-a');
    tokens.macB = await mk('mac-b');
  });

  let n = 0;
  /** A queued run of `iters` iterations, inserted into SQLite (no job): the worker routes are what is tested. */
  function newRun(iters = 30) {
    const id = `run_proto${++n}`;
    // Its folder inside the env's DATA_DIR: uploaded checkpoints are placed there (never the working directory).
    const runDir = path.join(env.dataDir, 'runs', id);
    const base = minimalNewRun(id, { runDir, adapterPath: path.join(runDir, 'adapters') });
    insertRun(env.db, { ...base, request: { ...base.request, iters } });
    return id;
  }

  function call(
    token: string,
    method: 'GET' | 'POST' | 'PUT',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) {
    return env.app.inject({
      method,
      url,
      payload: payload as string,
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
  }

  return {
    env,
    tokens,
    newRun,
    call,
    start: (token: string, runId: string, deliveryId = randomUUID()) =>
      call(token, 'POST', '/v1/worker/attempts', { runId, deliveryId }),
    logs: async (id: string) => (await env.app.inject({ method: 'GET', url: `/v1/runs/${id}/logs` })).body,
    count: (sql: string, id: string) => env.db.$client.prepare(sql).pluck().get(id) as number,
  };
}
