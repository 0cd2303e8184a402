// The CLI's settings, parsed once from the environment it is given: where the API is, its token, the Python for offline commands.
import { z } from 'zod';

const cliEnvSchema = z.object({
  API_URL: z
    .url('API_URL must be a URL such as http://127.0.0.1:8080')
    .refine((u) => /^https?:\/\//.test(u), 'API_URL must start with http:// or https://')
    .default('http://127.0.0.1:8080'),
  API_TOKEN: z.string().min(1).optional(),
  MLX_PYTHON: z.string().min(1).default('python3'),
  /** `watch --notify`: the program that shows a desktop notification (osascript on macOS). */
  MLXQ_NOTIFY_COMMAND: z.string().min(1).optional(),
});

export type CliConfig = Readonly<{
  apiUrl: string;
  apiToken: string | undefined;
  python: string;
  notifyCommand: string | null;
}>;

export class CliConfigError extends Error {}

export function loadCliConfig(env: Readonly<Record<string, string | undefined>>): CliConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = cliEnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new CliConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  const e = parsed.data;
  return Object.freeze({
    apiUrl: e.API_URL.replace(/\/+$/, ''),
    apiToken: e.API_TOKEN,
    python: e.MLX_PYTHON,
    notifyCommand: e.MLXQ_NOTIFY_COMMAND ?? (process.platform === 'darwin' ? 'osascript' : null),
  });
}
