// The `mlxq` entry point: reads the environment once, wires stdout/stderr, runs the command, sets the exit code.
import { CliConfigError, loadCliConfig } from './cli-config.js';
import type { CliIo } from './cli-io.js';
import { EXIT } from './cli-io.js';
import { runCli } from './run-cli.js';

// A closed pipe (`mlxq logs x | head`) is not an error worth a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(EXIT.ok);
  throw e;
});

async function main(): Promise<number> {
  let config;
  try {
    config = loadCliConfig(process.env);
  } catch (e) {
    if (!(e instanceof CliConfigError)) throw e;
    process.stderr.write(`error: ${e.message}\n`);
    return EXIT.badInput;
  }
  const io: CliIo = {
    out: (s) => void process.stdout.write(s),
    err: (s) => void process.stderr.write(s),
    isTty: process.stdout.isTTY,
    cwd: process.cwd(),
    config,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  };
  return runCli(process.argv.slice(2), io);
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    process.stderr.write(
      `mlxq: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exitCode = EXIT.runFailed;
  },
);
