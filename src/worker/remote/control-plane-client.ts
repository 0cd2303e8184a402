// The worker's HTTP client for the control plane: JSON calls and file streams with the worker token over a
// keep-alive agent (node:http, no framework), and a verdict for each failure: retry, stale attempt, or refused.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

/** Why a call did not succeed, as the caller acts on it. */
export type CallFailure =
  /** Network error, 5xx or 429: the same call may succeed later. */
  | 'retry'
  /** 409 stale_attempt: the attempt is over at the control plane; stop the trainer, drop its reports. */
  | 'stale'
  /** 401: the token is unknown or revoked. */
  | 'unauthorized'
  /** Any other 4xx: the call is wrong and will stay wrong. */
  | 'refused';

export class ControlPlaneError extends Error {
  constructor(
    readonly failure: CallFailure,
    message: string,
    readonly status: number | null = null,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ControlPlaneError';
  }
}

export interface ControlPlaneClient {
  readonly baseUrl: string;
  json<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** A JSON call whose body is already JSON text (a spooled report, sent as the spool holds it). */
  jsonText<T>(method: 'POST' | 'PUT', path: string, body: Buffer): Promise<T>;
  /** Streams a file up (PUT, application/octet-stream). */
  upload<T>(path: string, body: Readable, bytes: number): Promise<T>;
  /** A response body as a stream (the caller consumes or destroys it). */
  download(path: string): Promise<http.IncomingMessage>;
  close(): void;
}

const TIMEOUT_MS = 30_000;

function classify(status: number, body: { error?: string; message?: string } | undefined): CallFailure {
  if (status === 429 || status >= 500) return 'retry';
  if (status === 401) return 'unauthorized';
  if (status === 409 && body?.error === 'stale_attempt') return 'stale';
  return 'refused';
}

export function createControlPlaneClient(baseUrl: string, token: string): ControlPlaneClient {
  const url = new URL(baseUrl);
  const lib = url.protocol === 'https:' ? https : http;
  const agent = new lib.Agent({ keepAlive: true, maxSockets: 4 });

  function request(
    method: string,
    path: string,
    headers: Record<string, string | number>,
    send: (req: http.ClientRequest) => void,
  ): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = lib.request(new URL(path, url), {
        method,
        agent,
        headers: { authorization: `Bearer ${token}`, ...headers },
        timeout: TIMEOUT_MS,
      });
      req.on('response', resolve);
      req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} in ${TIMEOUT_MS} ms`)));
      req.on('error', (err) => reject(new ControlPlaneError('retry', `${method} ${path}: ${err.message}`)));
      send(req);
    });
  }

  async function readJson<T>(method: string, path: string, res: http.IncomingMessage): Promise<T> {
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return parsed as T;
    const body = parsed as { error?: string; message?: string } | undefined;
    throw new ControlPlaneError(
      classify(status, body),
      `${method} ${path}: ${status} ${body?.message ?? text.slice(0, 200)}`,
      status,
      parsed,
    );
  }

  async function jsonCall<T>(method: string, path: string, payload: Buffer | undefined): Promise<T> {
    const headers: Record<string, string | number> = payload
      ? { 'content-type': 'application/json', 'content-length': payload.length }
      : {};
    const res = await request(method, path, headers, (req) => req.end(payload));
    return readJson<T>(method, path, res);
  }

  return {
    baseUrl: url.origin,
    json: <T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) =>
      jsonCall<T>(method, path, body === undefined ? undefined : Buffer.from(JSON.stringify(body))),
    jsonText: <T>(method: 'POST' | 'PUT', path: string, body: Buffer) => jsonCall<T>(method, path, body),
    async upload<T>(path: string, body: Readable, bytes: number): Promise<T> {
      const res = await request(
        'PUT',
        path,
        { 'content-type': 'application/octet-stream', 'content-length': bytes },
        (req) => {
          body.on('error', (err) => req.destroy(err));
          body.pipe(req);
        },
      );
      return readJson<T>('PUT', path, res);
    },
    async download(path: string): Promise<http.IncomingMessage> {
      const res = await request('GET', path, {}, (req) => req.end());
      if (res.statusCode === 200) return res;
      return readJson<never>('GET', path, res);
    },
    close: () => agent.destroy(),
  };
}
