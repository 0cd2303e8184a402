// Browser test of the Workers page and the header notice, in Debian's Chromium: a worker whose Python lacks
// mlx-lm-lora is shown unusable with its reason on every page; registering a worker shows its token once; revoking
// it locks the token out; a working worker clears the notice.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type BrowserHandle, http, launchBrowser, screenshot } from '../helpers/browser.js';
import { getRun, sftRun, waitStatus } from '../helpers/chaos.js';
import { createTestEnv, type TestEnv } from '../helpers/test-env.js';

let env: TestEnv;
let baseUrl: string;
let browser: BrowserHandle;
let page: Page;
let runId: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mlxq-browser-workers-'));

beforeAll(async () => {
  env = await createTestEnv();
  baseUrl = await env.app.listen({ host: '127.0.0.1', port: 0 });
  // A Python that cannot import the trainer (-I ignores PYTHONPATH, where the stand-in is).
  const python = path.join(tmp, 'python-without-trainer');
  fs.writeFileSync(python, '#!/bin/sh\nexec python3 -I "$@"\n', { mode: 0o755 });
  await env.startWorker({ config: { mlxPython: python, workerName: 'vm-1' } });
  browser = await launchBrowser();
  page = await browser.newPage();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await env?.cleanup();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('the Workers page', () => {
  it('every page says when no worker is usable, and why', async () => {
    await page.goto(`${baseUrl}/ui`);
    const notice = page.locator('#worker-notice');
    await notice.waitFor({ state: 'visible' });
    await expect
      .poll(() => notice.textContent())
      .toMatch(
        /No usable worker: queued runs will not start\. no usable worker; vm-1: mlx-lm-lora not installed/,
      );
    await screenshot(page, 'workers-header-notice', { fullPage: false });
  });

  it("a queued run's page says why it waits", async () => {
    const created = await http(`${baseUrl}/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sftRun(6, 3)),
    });
    expect(created.status, created.text).toBe(201);
    runId = created.json<{ id: string }>().id;
    await page.goto(`${baseUrl}/ui/runs/${runId}`);
    await expect
      .poll(() => page.locator('#eta').textContent())
      .toMatch(/^waiting: no usable worker; vm-1: mlx-lm-lora not installed/);
  });

  it('lists the live workers with state, reason, memory and versions', async () => {
    await page.goto(`${baseUrl}/ui/workers`);
    const row = page.locator('#live-workers tr[data-worker="vm-1"]');
    await row.waitFor();
    expect(await row.locator('[data-state]').textContent()).toBe('unusable');
    expect(await row.locator('.reason').textContent()).toMatch(
      /^mlx-lm-lora not installed \(.* -m pip install mlx-lm-lora\)$/,
    );
    expect(await row.textContent()).toContain(`${(os.totalmem() / 1024 ** 3).toFixed(0)} GB`);
    expect(await row.textContent()).toMatch(/python 3\.\d+/);
  });

  it('registers a worker, shows its token once, and revokes it', async () => {
    await page.goto(`${baseUrl}/ui/workers`);
    await page.fill('#register-worker input[name=name]', 'studio-1');
    await page.fill('#register-worker input[name=labels]', 'studio, big-memory');
    await page.click('#register-worker button[type=submit]');
    const token = (await page.locator('#worker-token').textContent())!;
    expect(token).toMatch(/^mlxqw\./);
    const row = page.locator('#registered-workers tr', { hasText: 'studio-1' });
    await row.waitFor();
    expect(await row.locator('.chip').allTextContents()).toEqual(['studio', 'big-memory']);
    const me = await http(`${baseUrl}/v1/worker/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status, me.text).toBe(200);
    await screenshot(page, 'workers-registered');

    await row.locator('button.revoke').click();
    await expect.poll(() => row.locator('.status').textContent()).toBe('revoked');
    const after = await http(`${baseUrl}/v1/worker/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(after.status).toBe(401);
    expect(after.text).toMatch(/revoked/);
    // Reloaded, the token is not shown again: the server keeps only its hash.
    await page.reload();
    await row.waitFor();
    expect(await page.locator('#worker-token').count()).toBe(0);
  });

  it('a working worker next to it clears the notice, trains the waiting run and is idle again', async () => {
    await env.startWorker({ config: { workerName: 'vm-2' } });
    await page.goto(`${baseUrl}/ui/workers`);
    const row = page.locator('#live-workers tr[data-worker="vm-2"]');
    await row.waitFor();
    // It takes the waiting run at once: training, then idle.
    await expect.poll(() => row.locator('[data-state]').textContent()).toMatch(/^(training|idle)$/);
    await expect.poll(() => page.locator('#worker-notice').isHidden()).toBe(true);
    expect(await page.locator('#summary').textContent()).toBe('2 live, 1 usable');
    await screenshot(page, 'workers-page');
    // The waiting run is trained by the working worker.
    await waitStatus(env.app, runId, ['succeeded', 'failed', 'cancelled']);
    expect((await getRun(env.app, runId)).status).toBe('succeeded');
    await expect.poll(() => row.locator('[data-state]').textContent(), { timeout: 15_000 }).toBe('idle');
  });
});
