// Browser test of the after-training views: a run page with evaluation, samples side by side and artifacts, and the
// compare page for 3 runs (curves, parameter diff, evaluation, samples) opened from the runs list and the sweep page,
// with screenshots.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  type BrowserHandle,
  httpJson,
  launchBrowser,
  screenshot,
  type ServedEnv,
  startServedEnv,
} from '../helpers/browser.js';
import { evalDataTokens, sftRequest, waitJobFinal, waitRunFinal } from '../helpers/follow-up.js';
import { waitFor } from '../helpers/wait-for.js';

let served: ServedEnv;
let browser: BrowserHandle;
let page: Page;
const runIds: string[] = [];

const url = (p: string) => `${served.baseUrl}${p}`;

beforeAll(async () => {
  served = await startServedEnv(0);
  for (const lr of [1e-5, 1e-4, 5e-4]) {
    const res = await httpJson(url('/v1/runs'), 'POST', sftRequest({ learning_rate: lr, name: `lr ${lr}` }));
    expect(res.status, res.text).toBe(201);
    runIds.push(res.json<{ id: string }>().id);
  }
  for (const id of runIds) {
    expect((await waitRunFinal(served.env, id, 90_000)).status).toBe('succeeded');
    for (const body of [
      { kind: 'evaluate' },
      { kind: 'samples', prompts: ['Do you make sandwiches?'], max_tokens: 24 },
    ]) {
      const res = await httpJson(url(`/v1/runs/${id}/jobs`), 'POST', body);
      expect(res.status, res.text).toBe(201);
      expect((await waitJobFinal(served.env, res.json<{ id: string }>().id)).status).toBe('succeeded');
    }
  }
  browser = await launchBrowser();
  page = await browser.newPage();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await served?.env.cleanup();
});

describe('after training in the browser', { timeout: 120_000 }, () => {
  it('the run page shows the evaluation, the samples side by side and the artifacts with download links', async () => {
    await page.goto(url(`/ui/runs/${runIds[0]}`));
    await page.waitForSelector('#evaluation #eval-loss');
    expect(Number(await page.textContent('#eval-loss'))).toBeGreaterThan(0);
    expect(await page.textContent('#eval-tokens')).toBe(String(evalDataTokens()));
    const rows = page.locator('#samples table.samples-table tbody tr');
    expect(await rows.count()).toBe(1);
    const cells = await rows.first().locator('td').allTextContents();
    expect(cells[0]).toBe('Do you make sandwiches?');
    expect(cells[1]).not.toBe(cells[2]);
    const links = page.locator('#artifacts a[download]');
    expect(await links.count()).toBeGreaterThanOrEqual(3);
    const href = await links.first().getAttribute('href');
    expect(href).toMatch(/^\/v1\/artifacts\/art_[^/]+\/download$/);
    await screenshot(page, 'run-after-training');
  });

  it('the compare page shows 3 runs: overlaid curves, the parameter diff, evaluation and samples', async () => {
    await page.goto(url(`/ui/compare?runs=${runIds.join(',')}`));
    await page.waitForSelector('#compare-samples table');
    expect(await page.locator('#compare-runs li').count()).toBe(3);
    await page.waitForSelector('#compare-charts [data-chart="train-loss"] canvas');
    expect(await page.locator('#compare-charts [data-chart="train-loss"] .u-legend .u-series').count()).toBe(
      4,
    );
    const lr = page.locator('#compare-params tr[data-param="learning_rate"]');
    expect(await lr.getAttribute('class')).toBe('differs');
    expect(await lr.locator('td').allTextContents()).toEqual(['learning_rate', '1e-5', '1e-4', '5e-4']);
    const evalCells = await page.locator('#compare-eval tbody tr').first().locator('td').allTextContents();
    expect(evalCells).toHaveLength(4);
    for (const c of evalCells.slice(1)) expect(Number(c)).toBeGreaterThan(0);
    const sampleHead = await page.locator('#compare-samples thead th').allTextContents();
    expect(sampleHead).toEqual(['Prompt', 'Base model', 'lr 0.00001', 'lr 0.0001', 'lr 0.0005']);
    await screenshot(page, 'compare-3-runs');
  });

  it('the runs list ticks 3 runs and opens them on the compare page', async () => {
    await page.goto(url('/ui'));
    await page.waitForSelector(`#runs-table tr[data-run-id="${runIds[2]}"]`);
    const action = page.locator('#compare-selected');
    expect(await action.getAttribute('aria-disabled')).toBe('true');
    await page.check(`#runs-table tr[data-run-id="${runIds[0]}"] input.compare-tick`);
    expect(await action.textContent()).toBe('Tick 2 to 8 runs to compare');
    expect(await action.getAttribute('href')).toBeNull();
    for (const id of runIds.slice(1))
      await page.check(`#runs-table tr[data-run-id="${id}"] input.compare-tick`);
    expect(await action.textContent()).toBe('Compare 3 runs');
    await screenshot(page, 'runs-list-compare-selection');
    await page.click('#compare-selected');
    await page.waitForSelector('#compare-eval');
    expect(new URL(page.url()).searchParams.get('runs')).toBe(runIds.join(','));
    const legend = await page.locator('#compare-runs li a').allTextContents();
    expect(legend).toEqual(['lr 0.00001', 'lr 0.0001', 'lr 0.0005']);
    await screenshot(page, 'compare-from-runs-list');
  });

  it('the sweep page shows test loss and perplexity columns and opens the compare page for ticked runs', async () => {
    const res = await httpJson(url('/v1/sweeps'), 'POST', {
      name: 'rank',
      base: sftRequest(),
      grid: { learning_rate: [1e-5, 1e-4] },
      metric: { name: 'loss', goal: 'min' },
      after: [{ kind: 'evaluate' }],
    });
    expect(res.status, res.text).toBe(201);
    const sweepId = res.json<{ id: string }>().id;
    const members = (await httpJson(url(`/v1/sweeps/${sweepId}`), 'GET')).json<{
      runs: { runId: string }[];
    }>().runs;
    await waitFor(
      async () => {
        const rows = (await httpJson(url(`/v1/sweeps/${sweepId}`), 'GET')).json<{
          runs: { evaluation: unknown }[];
        }>().runs;
        return rows.every((r) => r.evaluation) ? rows : null;
      },
      { timeoutMs: 90_000, what: 'both members evaluated' },
    );
    await page.goto(url(`/ui/sweeps/${sweepId}`));
    await page.waitForSelector('#sweep-table th[data-sort-key="testLoss"]');
    const csv = (await httpJson(url(`/v1/sweeps/${sweepId}?format=csv`), 'GET')).text;
    expect(csv.split('\r\n')[0]).toContain('test_loss,test_ppl');
    for (const m of members)
      await page.check(`#sweep-table tr[data-run-id="${m.runId}"] input[type="checkbox"]`);
    expect(await page.textContent('#compare-selected')).toBe('Compare 2 runs');
    await screenshot(page, 'sweep-eval-columns');
    await page.click('#compare-selected');
    await page.waitForSelector('#compare-eval');
    expect(await page.locator('#compare-runs li').count()).toBe(2);
  });

  it('refuses fewer than 2 runs with a message', async () => {
    await page.goto(url(`/ui/compare?runs=${runIds[0]}`));
    await page.waitForSelector('.banner.error');
    expect(await page.textContent('.banner.error')).toContain('Compare takes 2 to 8 runs');
  });
});
