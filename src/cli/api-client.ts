// A small HTTP client for the service: bearer token, JSON or YAML bodies, and API errors turned into CliErrors.
import type { FieldIssue, FileIssue } from '../contract/common.js';
import type { CliConfig } from './cli-config.js';
import { CliError, EXIT } from './cli-io.js';
import { formatApiError } from './format.js';

/** A 4xx/5xx answer: a code, a message, and the fields (issues) or dataset lines (problems) at fault. */
export interface ApiErrorBody {
  error?: string;
  message?: string;
  issues?: FieldIssue[];
  problems?: FileIssue[];
}

export interface RequestOptions {
  json?: unknown;
  yaml?: string;
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Names the file a YAML body came from, so issues read "config.yaml:7 key: message". */
  file?: string;
}

/** The service could not be reached at all (nothing listening, DNS, TLS). */
export class ServiceUnreachableError extends CliError {
  constructor(url: string, error: unknown) {
    const cause = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } })
      .cause;
    const code = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (error as Error).message;
    super(
      `cannot reach the service at ${url} (${code}); start it with \`npm start\` or set API_URL`,
      EXIT.runFailed,
    );
  }
}

export class ApiClient {
  constructor(private readonly config: CliConfig) {}

  url(path: string, query: RequestOptions['query'] = {}): string {
    const u = new URL(this.config.apiUrl + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  /** Sends a request; any status comes back (no throw), except when the service cannot be reached. */
  async send(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
    if (this.config.apiToken) headers.authorization = `Bearer ${this.config.apiToken}`;
    let body: string | undefined;
    if (opts.yaml !== undefined) [headers['content-type'], body] = ['application/yaml', opts.yaml];
    else if (opts.json !== undefined)
      [headers['content-type'], body] = ['application/json', JSON.stringify(opts.json)];
    const url = this.url(path, opts.query);
    try {
      return await fetch(url, { method, headers, body });
    } catch (e) {
      throw new ServiceUnreachableError(this.config.apiUrl, e);
    }
  }

  /** Like send, but a 4xx/5xx answer throws as in call: for answers read as text or as a stream. */
  async sendOk(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const res = await this.send(method, path, opts);
    if (!res.ok) throw apiError(res.status, await res.json().catch(() => ({})), opts.file);
    return res;
  }

  /** Sends a request and returns the JSON answer; a 4xx becomes exit code 2, anything else unexpected exit 1. */
  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<T> {
    const res = await this.send(method, path, opts);
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      // Not JSON (a proxy's error page, plain-text logs): keep the text.
    }
    if (!res.ok) throw apiError(res.status, body, opts.file);
    return body as T;
  }
}

export function apiError(status: number, body: unknown, file?: string): CliError {
  const b: ApiErrorBody = typeof body === 'object' && body !== null ? body : { message: String(body) };
  const exit = status >= 400 && status < 500 && status !== 429 ? EXIT.badInput : EXIT.runFailed;
  const { message, details } = formatApiError(status, b, file);
  return new CliError(message, exit, details);
}
