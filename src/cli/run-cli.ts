// Parses the command line (node:util parseArgs), runs the subcommand, and turns failures into exit codes.
import { parseArgs } from 'node:util';

import { ApiClient } from './api-client.js';
import { CliError, type CliIo, EXIT, type ExitCode } from './cli-io.js';
import { methodsCommand, validateDataCommand } from './commands/catalog.js';
import type { CommandSpec } from './commands/command-spec.js';
import { downloadCommand } from './commands/download.js';
import {
  artifactsCommand,
  evalCommand,
  exportCommand,
  fuseCommand,
  samplesCommand,
} from './commands/follow-ups.js';
import { logsCommand } from './commands/logs.js';
import { cancelCommand, listCommand, showCommand, watchCommand } from './commands/runs.js';
import { commandCommand, submitCommand } from './commands/submit.js';
import { sweepCommand } from './commands/sweep.js';

export const COMMANDS: readonly CommandSpec[] = [
  submitCommand,
  commandCommand,
  listCommand,
  showCommand,
  logsCommand,
  watchCommand,
  cancelCommand,
  sweepCommand,
  evalCommand,
  samplesCommand,
  fuseCommand,
  exportCommand,
  artifactsCommand,
  downloadCommand,
  methodsCommand,
  validateDataCommand,
];

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'mlxq: queue and follow mlx-lm-lora training runs',
    '',
    'usage: mlxq <command> [arguments]',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `mlxq <command> --help` for its arguments. Environment: API_URL (default http://127.0.0.1:8080),',
    'API_TOKEN (bearer token), MLX_PYTHON (for `command --local`).',
    'Exit codes: 0 ok, 1 the run failed (or the service did), 2 bad input.',
    '',
  ].join('\n');
}

const commandUsage = (c: CommandSpec) => `usage: mlxq ${c.name} ${c.usage}\n  ${c.summary}\n`;

function printError(io: CliIo, e: CliError): ExitCode {
  io.err(`error: ${e.message}\n`);
  for (const line of e.details) io.err(`  ${line}\n`);
  return e.exitCode;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    if (name === undefined) io.err(usage());
    else io.out(usage());
    return name === undefined ? EXIT.badInput : EXIT.ok;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd)
    return printError(io, new CliError(`unknown command "${name}"; run \`mlxq --help\` for the list`));
  let parsed;
  try {
    parsed = parseArgs({
      args: [...rest],
      options: { ...cmd.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    io.err(`error: ${(e as Error).message}\n${commandUsage(cmd)}`);
    return EXIT.badInput;
  }
  if (parsed.values.help) {
    io.out(commandUsage(cmd));
    return EXIT.ok;
  }
  const count = parsed.positionals.length;
  if (count < cmd.positionals.min || count > cmd.positionals.max) {
    io.err(
      `error: ${cmd.name} takes ${cmd.positionals.min === cmd.positionals.max ? cmd.positionals.min : `${cmd.positionals.min} to ${cmd.positionals.max}`} argument(s), got ${count}\n${commandUsage(cmd)}`,
    );
    return EXIT.badInput;
  }
  try {
    return await cmd.run({ api: new ApiClient(io.config), io }, parsed.positionals, parsed.values);
  } catch (e) {
    if (e instanceof CliError) return printError(io, e);
    throw e;
  }
}
