// `logs <id> [-f]`: the run's log; with -f, streamed (server-sent events) until the run ends.
import type { LogEndEvent, LogLineEvent } from '../../contract/runs.js';
import type { ApiClient } from '../api-client.js';
import { type CliIo, EXIT, type ExitCode } from '../cli-io.js';
import { readSse } from '../sse.js';
import type { CommandSpec } from './command-spec.js';

/** Reconnections tolerated when the stream drops before the run ends. */
const MAX_RECONNECTS = 20;

async function follow(api: ApiClient, io: CliIo, id: string): Promise<ExitCode> {
  let after = 0;
  for (let attempt = 0; attempt <= MAX_RECONNECTS; attempt++) {
    const res = await api.sendOk('GET', `/v1/runs/${encodeURIComponent(id)}/logs`, {
      query: { follow: 'true', after },
      headers: { accept: 'text/event-stream' },
    });
    for await (const ev of readSse(res)) {
      const data = JSON.parse(ev.data || '{}') as Partial<LogLineEvent & LogEndEvent>;
      if (ev.event === 'line') {
        io.out(`${data.text ?? ''}\n`);
        after = data.seq ?? after;
      } else if (ev.event === 'end') {
        io.err(`run ${id} ${data.status}${data.error ? `: ${data.error}` : ''}\n`);
        return data.status === 'succeeded' ? EXIT.ok : EXIT.runFailed;
      }
    }
    await io.sleep(500);
  }
  io.err(`the log stream of ${id} kept dropping; giving up\n`);
  return EXIT.runFailed;
}

export const logsCommand: CommandSpec = {
  name: 'logs',
  usage: '<run-id> [-f|--follow]',
  summary: 'print the run log; -f follows it until the run ends (exit 1 if the run did not succeed)',
  options: { follow: { type: 'boolean', short: 'f' } },
  positionals: { min: 1, max: 1 },
  async run({ api, io }, [id], values) {
    if (values.follow) return follow(api, io, id!);
    const res = await api.sendOk('GET', `/v1/runs/${encodeURIComponent(id!)}/logs`);
    const text = await res.text();
    io.out(text.endsWith('\n') || text === '' ? text : `${text}\n`);
    return EXIT.ok;
  },
};
