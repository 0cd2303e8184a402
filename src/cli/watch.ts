// `watch`: follows a run until it ends, drawing its progress; exit 0 when it succeeded, 1 otherwise.
import type { RunDetail } from '../contract/runs.js';
import { isFinal } from '../domain/run-status.js';
import type { ApiClient } from './api-client.js';
import { ServiceUnreachableError } from './api-client.js';
import { type CliIo, EXIT, type ExitCode } from './cli-io.js';
import { finalLine, progressKey, progressLine } from './progress.js';

/** Consecutive failed polls tolerated (the service restarting) before giving up. */
const MAX_UNREACHABLE_POLLS = 30;

/** Once the run has been seen, a service that stops answering (restarting) is waited for a while. */
async function poll(
  api: ApiClient,
  io: CliIo,
  id: string,
  intervalMs: number,
  patient: boolean,
): Promise<RunDetail> {
  for (let failures = 0; ; failures++) {
    try {
      return await api.call<RunDetail>('GET', `/v1/runs/${encodeURIComponent(id)}`);
    } catch (e) {
      if (!(e instanceof ServiceUnreachableError) || !patient || failures >= MAX_UNREACHABLE_POLLS) throw e;
      await io.sleep(intervalMs);
    }
  }
}

export async function watchRun(api: ApiClient, io: CliIo, id: string, intervalMs: number): Promise<ExitCode> {
  let lastKey = '';
  let drawn = false;
  for (let seen = false; ; seen = true) {
    const run = await poll(api, io, id, intervalMs, seen);
    const final = isFinal(run.status);
    const line = progressLine(run);
    if (io.isTty) {
      io.out(`\r\x1b[2K${line}`);
      drawn = true;
    } else if (progressKey(run) !== lastKey) {
      io.out(`${line}\n`);
      lastKey = progressKey(run);
    }
    if (final) {
      if (drawn) io.out('\n');
      const summary = finalLine(run);
      if (run.status === 'succeeded') {
        io.out(`${summary}\n`);
        return EXIT.ok;
      }
      io.err(`${summary}\n`);
      return EXIT.runFailed;
    }
    await io.sleep(intervalMs);
  }
}
