// Same-origin calls to the JSON API (with the login cookie when there is one); non-2xx answers become ApiError.
// @ts-check
/* global fetch, location, URLSearchParams, setTimeout, clearTimeout */

/** @typedef {import('../../src/contract/common.js').FieldIssue} FieldIssue */
/** @typedef {import('../../src/contract/common.js').FileIssue} FileIssue */
/**
 * The body of an error answer (`Error` in /docs/json), or `{message}` holding the text of one that is not JSON.
 * @typedef {{ error?: string, message?: string, issues?: FieldIssue[], problems?: FileIssue[] }} ErrorBody
 */

export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {unknown} body the answer's JSON, or its text
   */
  constructor(status, body) {
    const message =
      body && typeof body === 'object' && 'message' in body && typeof body.message === 'string'
        ? body.message
        : status === 401
          ? 'Not signed in: the API needs a token'
          : `HTTP ${status}`;
    super(message);
    this.status = status;
    /** @type {ErrorBody} */
    this.body = body && typeof body === 'object' ? body : { message: String(body ?? '') };
  }

  /** @returns {FieldIssue[]} */
  get issues() {
    return Array.isArray(this.body.issues) ? this.body.issues : [];
  }

  /** @returns {FileIssue[]} */
  get problems() {
    return Array.isArray(this.body.problems) ? this.body.problems : [];
  }
}

/**
 * Calls the JSON API. The answer's type is its route's schema type from src/contract, which the caller names in
 * a JSDoc cast of the awaited call.
 * @template [T=unknown]
 * @param {string} path
 * @param {{ method?: string, body?: unknown, signal?: AbortSignal }} [options]
 * @returns {Promise<T>}
 */
export async function api(path, { method = 'GET', body = undefined, signal = undefined } = {}) {
  /** @type {RequestInit & { headers: Record<string, string> }} */
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' }, signal };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  // With API_TOKEN set, an expired or missing login cookie sends the page to the login form, and back after.
  if (res.status === 401 && location.pathname !== '/login') {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
  }
  const text = await res.text();
  /** @type {unknown} */
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) throw new ApiError(res.status, data);
  // The route's declared answer (src/contract), which the response-schemas tests check the API against.
  return /** @type {T} */ (data);
}

/**
 * `?a=1&b=x` of the parameters that have a value; '' when none has.
 * @param {Record<string, string | number | boolean | null | undefined>} params
 */
export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') q.set(key, String(value));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * Runs `task` now and then every `ms` until it returns false or stop() is called. now() runs it at once (or
 * right after the run in progress); errors go to onError and polling goes on.
 * @param {() => Promise<unknown> | unknown} task
 * @param {number} ms
 * @param {(err: unknown) => void} [onError]
 * @returns {{ stop(): void, now(): void }}
 */
export function poll(task, ms, onError) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  let stopped = false;
  let running = false;
  let again = false;
  const tick = async () => {
    clearTimeout(timer);
    if (running) {
      again = true;
      return;
    }
    running = true;
    let more = true;
    try {
      more = (await task()) !== false;
    } catch (err) {
      onError?.(err);
    }
    running = false;
    if (!more) stopped = true;
    if (stopped) return;
    if (again) {
      again = false;
      void tick();
    } else timer = setTimeout(tick, ms);
  };
  void tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    now() {
      if (!stopped) void tick();
    },
  };
}
