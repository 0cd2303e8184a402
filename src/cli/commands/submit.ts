// `submit <file>` queues a run from a YAML config or JSON request; `command <file>` prints its trainer command.
import type { FieldIssue } from '../../contract/common.js';
import type { DryRun as ServiceDryRun, SubmittedRun } from '../../contract/runs.js';
import { argValue } from '../../domain/build-command.js';
import { configFileOf } from '../../domain/run-folder.js';
import type { ApiClient } from '../api-client.js';
import { ServiceUnreachableError } from '../api-client.js';
import { type CliIo, EXIT, printJson } from '../cli-io.js';
import { formatArgv, formatWarning } from '../format.js';
import { buildLocalCommand, OFFLINE_RUN_DIR } from '../local-command.js';
import { readRunFile, type RunFile } from '../run-file.js';
import { watchRun } from '../watch.js';
import { type CommandSpec, str, watchInterval } from './command-spec.js';

type Warning = FieldIssue;

function bodyOf(file: RunFile) {
  return file.kind === 'yaml' ? { yaml: file.text, file: file.label } : { json: file.value };
}

export function printWarnings(io: CliIo, warnings: readonly Warning[] | undefined, file?: string): void {
  const byLine = [...(warnings ?? [])].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  for (const w of byLine) io.err(`${formatWarning(w, file)}\n`);
}

export const submitCommand: CommandSpec = {
  name: 'submit',
  usage: '<file.yaml|file.json> [--watch] [--interval ms] [--idempotency-key key] [--json]',
  summary: 'queue a run from an mlx-lm-lora YAML config (unchanged) or a JSON request',
  options: {
    watch: { type: 'boolean', short: 'w' },
    interval: { type: 'string' },
    'idempotency-key': { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: { min: 1, max: 1 },
  async run({ api, io }, [file], values) {
    const runFile = readRunFile(file!, io.cwd);
    const key = str(values['idempotency-key']);
    const run = await api.call<SubmittedRun>('POST', '/v1/runs', {
      ...bodyOf(runFile),
      headers: key ? { 'idempotency-key': key } : {},
    });
    if (values.json) printJson(io, run);
    else {
      io.out(`${run.id} ${run.status} (${run.method}, ${run.model})\n`);
      printWarnings(io, run.warnings, runFile.kind === 'yaml' ? runFile.label : undefined);
    }
    if (!values.watch) return EXIT.ok;
    return watchRun(api, io, run.id, watchInterval(values));
  },
};

/** What `command` prints: the service's dry run, or the same parts built offline. */
type DryRun = Pick<ServiceDryRun, 'argv' | 'config' | 'warnings'>;

async function serverDryRun(api: ApiClient, file: RunFile): Promise<DryRun> {
  return api.call<ServiceDryRun>('POST', '/v1/runs', { ...bodyOf(file), query: { dryRun: 'true' } });
}

export const commandCommand: CommandSpec = {
  name: 'command',
  usage: '<file.yaml|file.json> [--local] [--json]',
  summary:
    'print the mlx_lm_lora.train command a run file becomes (a dry run; offline with --local or without a service)',
  options: { local: { type: 'boolean' }, json: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run({ api, io }, [file], values) {
    const runFile = readRunFile(file!, io.cwd);
    let dry: DryRun | undefined;
    if (!values.local) {
      try {
        dry = await serverDryRun(api, runFile);
      } catch (e) {
        if (!(e instanceof ServiceUnreachableError)) throw e;
        io.err(`note: ${e.message}; building the command locally (the dataset is not checked)\n`);
      }
    }
    const checkedBy = dry ? 'service' : 'local';
    dry ??= buildLocalCommand(runFile, io.config.python);
    if (values.json) return printJson(io, { ...dry, checkedBy });
    io.out(`${formatArgv(dry.argv)}\n`);
    const configPath =
      argValue(dry.argv, '--config') ?? argValue(dry.argv, '-c') ?? configFileOf(OFFLINE_RUN_DIR);
    io.out(`\n# ${configPath}\n${dry.config}`);
    printWarnings(io, dry.warnings, runFile.kind === 'yaml' ? runFile.label : undefined);
    return EXIT.ok;
  },
};
