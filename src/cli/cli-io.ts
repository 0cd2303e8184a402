// What a command may touch: its output streams, the working directory, settings, exit codes and its own errors.
import type { CliConfig } from './cli-config.js';

export const EXIT = { ok: 0, runFailed: 1, badInput: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** True when stdout is a terminal: progress redraws in place instead of printing a line per change. */
  isTty: boolean;
  cwd: string;
  config: CliConfig;
  /** Resolves after ms, or early when the command is interrupted. */
  sleep(ms: number): Promise<void>;
}

/** What --json prints: the service's answer as indented JSON. */
export function printJson(io: CliIo, value: unknown): ExitCode {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
  return EXIT.ok;
}

/** A failure the CLI reports as one message and an exit code (2 for bad input, 1 otherwise). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.badInput,
    /** Extra lines printed under the message (field issues, dataset problems). */
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}
