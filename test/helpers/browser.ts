// Browser tests: a real listening server with a worker, Debian's Chromium driven by playwright-core, and screenshots.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

import type { WorkerHandle } from '../../src/worker/create-worker.js';
import { createTestEnv, REPO_ROOT, type TestEnv } from './test-env.js';

const MAC_CHROME = '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome';

/** CHROMIUM_PATH when set; on a Mac, Google Chrome where it installs itself; else Debian's Chromium (`apt-get install -y chromium`). */
export const CHROMIUM_PATH =
  process.env.CHROMIUM_PATH ?? (process.platform === 'darwin' ? MAC_CHROME : '/usr/bin/chromium');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-results', 'screenshots');

/** Fails loudly when there is no browser: CI installs Chromium, so a missing one is a broken setup, not a skip. */
export function assertChromium(): void {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. The browser tests need it: install it with ` +
        '`apt-get install -y chromium` (.ci/run does this), or set CHROMIUM_PATH to a Chromium or Chrome binary.',
    );
  }
}

export interface BrowserHandle {
  context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** A fresh profile in a temporary user-data-dir, removed on close. */
export async function launchBrowser(): Promise<BrowserHandle> {
  assertChromium();
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1360, height: 900 },
    timeout: 30_000,
  });
  const errors: string[] = [];
  context.on('weberror', (e) => errors.push(e.error().message));
  return {
    context,
    async newPage() {
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
      return page;
    },
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
      if (errors.length) throw new Error(`Uncaught errors in the pages:\n${errors.join('\n')}`);
    },
  };
}

export interface ServedEnv {
  env: TestEnv;
  baseUrl: string;
  worker: WorkerHandle;
}

/**
 * The whole service on a real port of 127.0.0.1 with a worker whose stand-in trainer sleeps `stepSeconds`
 * per iteration, so runs last long enough to be watched and cancelled.
 */
export async function startServedEnv(
  stepSeconds: number,
  envOverrides: Record<string, string> = {},
): Promise<ServedEnv> {
  const env = await createTestEnv(envOverrides);
  try {
    const address = await env.app.listen({ host: '127.0.0.1', port: 0 });
    const worker = await env.startWorker({ trainerEnv: { MLX_STANDIN_STEP_SECONDS: String(stepSeconds) } });
    return { env, baseUrl: address, worker };
  } catch (err) {
    await env.cleanup();
    throw err;
  }
}

/** Saves a screenshot (the full page unless told otherwise) under test-results/screenshots/, which is gitignored. */
export async function screenshot(page: Page, name: string, { fullPage = true } = {}): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/**
 * fetch that always reads the whole body: a body left unread keeps the server writing the response, and
 * app.close() then waits for that connection until the request times out.
 */
export async function http(url: string, init?: RequestInit): Promise<HttpAnswer> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: <T>() => JSON.parse(text) as T };
}

/** POST or GET JSON with the answer read in full. */
export async function httpJson(url: string, method: string, body?: unknown): Promise<HttpAnswer> {
  return http(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export interface BrowserSession {
  /** The served service (readable once the file's set-up has run). */
  readonly served: ServedEnv;
  readonly page: Page;
  /** Another page of the same browser (e.g. a guest without a cookie). */
  newPage: () => Promise<Page>;
  /** An absolute URL of the served service. */
  url: (p: string) => string;
}

/**
 * A test file's served service (startServedEnv(stepSeconds)), then `prepare` (e.g. runs to look at), then Chromium
 * and a page: started before the file's tests, closed after them.
 */
export function useBrowserSession(
  stepSeconds: number,
  {
    prepare,
    timeoutMs = 60_000,
  }: { prepare?: (served: ServedEnv) => Promise<void>; timeoutMs?: number } = {},
): BrowserSession {
  let served: ServedEnv | undefined;
  let browser: BrowserHandle | undefined;
  let page: Page | undefined;
  beforeAll(async () => {
    served = await startServedEnv(stepSeconds);
    await prepare?.(served);
    browser = await launchBrowser();
    page = await browser.newPage();
  }, timeoutMs);
  afterAll(async () => {
    await browser?.close();
    await served?.env.cleanup();
  });
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the browser session's ${what} is read before its set-up ran`);
    return value;
  };
  return {
    get served() {
      return ready(served, 'service');
    },
    get page() {
      return ready(page, 'page');
    },
    newPage: () => ready(browser, 'browser').newPage(),
    url: (p) => `${ready(served, 'service').baseUrl}${p}`,
  };
}
