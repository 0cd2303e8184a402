// The part of GET /v1/runs/:id the benchmarks read, and waiting for a run to end.
import type { HttpClient } from './http-client.js';
import { sleep } from './stats.js';

const FINAL = ['succeeded', 'failed', 'cancelled'];

export interface RunView {
  id: string;
  status: string;
  argv: string[];
  runDir: string;
  error: string | null;
  /** Status changes; `at` in epoch ms (queued: the API inserted the row; running: the worker took the run). */
  events: { toStatus: string; at: number }[];
}

/** Polls the run every 10 ms until it is final; throws after `timeoutMs`. */
export async function waitFinal(client: HttpClient, id: string, timeoutMs = 60_000): Promise<RunView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await client.json<RunView>('GET', `/v1/runs/${id}`);
    if (FINAL.includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${id} still ${run.status} after ${timeoutMs / 1000} s`);
    await sleep(10);
  }
}
