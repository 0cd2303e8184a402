// Runs the mlxq CLI as a user would: `node bin/mlxq.js ...` in a child process, against a listening API.
import path from 'node:path';

import { execa } from 'execa';

import { REPO_ROOT } from './test-env.js';

export const MLXQ_BIN = path.join(REPO_ROOT, 'bin', 'mlxq.js');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Never rejects: the exit code is part of what tests check. Async, so the in-process API keeps serving. */
export async function mlxq(
  args: string[],
  opts: { apiUrl: string; cwd?: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<CliResult> {
  const r = await execa('node', [MLXQ_BIN, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: { API_URL: opts.apiUrl, API_TOKEN: '', ...opts.env },
    reject: false,
    timeout: opts.timeoutMs ?? 60_000,
    stripFinalNewline: false,
  });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}
