// The mlx-lm version the worker's Python has: probed at worker start, kept in DATA_DIR for the API's request checks.
import fs from 'node:fs';
import path from 'node:path';

import { execa } from 'execa';

const FILE = 'mlx-lm-version.json';

/** `python -m mlx_lm --version` prints the bare version; null when mlx-lm is missing. */
export async function probeMlxLmVersion(
  python: string,
  env: Record<string, string> = {},
): Promise<string | null> {
  const r = await execa(python, ['-m', 'mlx_lm', '--version'], {
    env,
    extendEnv: true,
    reject: false,
    timeout: 60_000,
    stdin: 'ignore',
  });
  const v = r.exitCode === 0 ? r.stdout.trim().split('\n').at(-1) : undefined;
  return v && /^\d+\.\d+/.test(v) ? v : null;
}

export async function writeMlxLmVersion(
  dataDir: string,
  version: string | null,
  worker: string,
): Promise<void> {
  await fs.promises.mkdir(dataDir, { recursive: true });
  const tmp = path.join(dataDir, `${FILE}.${process.pid}.tmp`);
  await fs.promises.writeFile(tmp, JSON.stringify({ version, worker, at: new Date().toISOString() }));
  await fs.promises.rename(tmp, path.join(dataDir, FILE));
}

/** What the last worker that started on this Mac found; null when none has said. */
export function readMlxLmVersion(dataDir: string): string | null {
  try {
    const v = (JSON.parse(fs.readFileSync(path.join(dataDir, FILE), 'utf8')) as { version?: unknown })
      .version;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}
