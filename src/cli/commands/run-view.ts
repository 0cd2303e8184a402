// A command that shows one thing of a run: `<name> <run-id> [--json]` GETs it, then prints it as JSON or as text.
import type { ApiClient } from '../api-client.js';
import { EXIT, printJson } from '../cli-io.js';
import type { CommandSpec } from './command-spec.js';

export const runPath = (id: string) => `/v1/runs/${encodeURIComponent(id)}`;

export function runViewCommand<T>(view: {
  name: string;
  summary: string;
  /** Reads the thing shown for the run's id. */
  get: (api: ApiClient, id: string) => Promise<T>;
  /** The text printed without --json. */
  text: (body: T) => string;
}): CommandSpec {
  return {
    name: view.name,
    usage: '<run-id> [--json]',
    summary: view.summary,
    options: { json: { type: 'boolean' } },
    positionals: { min: 1, max: 1 },
    async run({ api, io }, [id], values) {
      const body = await view.get(api, id!);
      if (values.json) return printJson(io, body);
      io.out(view.text(body));
      return EXIT.ok;
    },
  };
}
