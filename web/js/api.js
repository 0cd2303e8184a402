// Same-origin calls to the JSON API (with the login cookie when there is one); non-2xx answers become ApiError.
// @ts-check
/* global fetch, location, URLSearchParams, setTimeout, clearTimeout */

export class ApiError extends Error {
  constructor(status, body) {
    const message =
      body && typeof body === 'object' && typeof body.message === 'string'
        ? body.message
        : status === 401
          ? 'Not signed in: the API needs a token'
          : `HTTP ${status}`;
    super(message);
    this.status = status;
    this.body = body && typeof body === 'object' ? body : { message: String(body ?? '') };
  }

  get issues() {
    return Array.isArray(this.body.issues) ? this.body.issues : [];
  }

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
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

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
 */
export function poll(task, ms, onError) {
  let timer = null;
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
