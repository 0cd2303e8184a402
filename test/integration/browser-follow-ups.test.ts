// Browser test of the after-training views: a run page with evaluation, samples side by side and artifacts, and the
// compare page for 3 runs (curves, parameter diff, evaluation, samples) opened from the runs list and the sweep page,
// with screenshots.
import { describe, expect, it } from 'vitest';

import { httpJson, screenshot, useBrowserSession } from '../helpers/browser.js';
import { evalDataTokens, sftRequest, waitJobFinal, waitRunFinal } from '../helpers/follow-up.js';
import { waitFor } from '../helpers/wait-for.js';

const runIds: string[] = [];

const ui = useBrowserSession(0, {
  // Three finished runs, each evaluated and sampled, for the pages to show.
  prepare: async (served) => {
    for (const lr of [1e-5, 1e-4, 5e-4]) {
      const res = await httpJson(
        url('/v1/runs'),
        'POST',
        sftRequest({ learning_rate: lr, name: `lr ${lr}` }),
      );
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
  },
  timeoutMs: 240_000,
});
const { url } = ui;

describe('after training in the browser', { timeout: 120_000 }, () => {
  it('the run page shows the evaluation, the samples side by side and the artifacts with download links', async () => {
    await ui.page.goto(url(`/ui/runs/${runIds[0]}`));
    await ui.page.waitForSelector('#evaluation #eval-loss');
    expect(Number(await ui.page.textContent('#eval-loss'))).toBeGreaterThan(0);
    expect(await ui.page.textContent('#eval-tokens')).toBe(String(evalDataTokens()));
    const rows = ui.page.locator('#samples table.samples-table tbody tr');
    expect(await rows.count()).toBe(1);
    const cells = await rows.first().locator('td').allTextContents();
    expect(cells[0]).toBe('Do you make sandwiches?');
    expect(cells[1]).not.toBe(cells[2]);
    const links = ui.page.locator('#artifacts a[download]');
    expect(await links.count()).toBeGreaterThanOrEqual(3);
    const href = await links.first().getAttribute('href');
    expect(href).toMatch(/^\/v1\/artifacts\/art_[^/]+\/download$/);
    await screenshot(ui.page, 'run-after-training');
  });

  it('the compare page shows 3 runs: overlaid curves, the parameter diff, evaluation and samples', async () => {
    await ui.page.goto(url(`/ui/compare?runs=${runIds.join(',')}`));
    await ui.page.waitForSelector('#compare-samples table');
    expect(await ui.page.locator('#compare-runs li').count()).toBe(3);
    await ui.page.waitForSelector('#compare-charts [data-chart="train-loss"] canvas');
    expect(
      await ui.page.locator('#compare-charts [data-chart="train-loss"] .u-legend .u-series').count(),
    ).toBe(4);
    const lr = ui.page.locator('#compare-params tr[data-param="learning_rate"]');
    expect(await lr.getAttribute('class')).toBe('differs');
    expect(await lr.locator('td').allTextContents()).toEqual(['learning_rate', '1e-5', '1e-4', '5e-4']);
    const evalCells = await ui.page.locator('#compare-eval tbody tr').first().locator('td').allTextContents();
    expect(evalCells).toHaveLength(4);
    for (const c of evalCells.slice(1)) expect(Number(c)).toBeGreaterThan(0);
    const sampleHead = await ui.page.locator('#compare-samples thead th').allTextContents();
    expect(sampleHead).toEqual(['Prompt', 'Base model', 'lr 0.00001', 'lr 0.0001', 'lr 0.0005']);
    await screenshot(ui.page, 'compare-3-runs');
  });

  it('the runs list ticks 3 runs and opens them on the compare page', async () => {
    await ui.page.goto(url('/ui'));
    await ui.page.waitForSelector(`#runs-table tr[data-run-id="${runIds[2]}"]`);
    const action = ui.page.locator('#compare-selected');
    expect(await action.getAttribute('aria-disabled')).toBe('true');
    await ui.page.check(`#runs-table tr[data-run-id="${runIds[0]}"] input.compare-tick`);
    expect(await action.textContent()).toBe('Tick 2 to 8 runs to compare');
    expect(await action.getAttribute('href')).toBeNull();
    for (const id of runIds.slice(1))
      await ui.page.check(`#runs-table tr[data-run-id="${id}"] input.compare-tick`);
    expect(await action.textContent()).toBe('Compare 3 runs');
    await screenshot(ui.page, 'runs-list-compare-selection');
    await ui.page.click('#compare-selected');
    await ui.page.waitForSelector('#compare-eval');
    expect(new URL(ui.page.url()).searchParams.get('runs')).toBe(runIds.join(','));
    const legend = await ui.page.locator('#compare-runs li a').allTextContents();
    expect(legend).toEqual(['lr 0.00001', 'lr 0.0001', 'lr 0.0005']);
    await screenshot(ui.page, 'compare-from-runs-list');
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
    await ui.page.goto(url(`/ui/sweeps/${sweepId}`));
    await ui.page.waitForSelector('#sweep-table th[data-sort-key="testLoss"]');
    const csv = (await httpJson(url(`/v1/sweeps/${sweepId}?format=csv`), 'GET')).text;
    expect(csv.split('\r\n')[0]).toContain('test_loss,test_ppl');
    for (const m of members)
      await ui.page.check(`#sweep-table tr[data-run-id="${m.runId}"] input[type="checkbox"]`);
    expect(await ui.page.textContent('#compare-selected')).toBe('Compare 2 runs');
    await screenshot(ui.page, 'sweep-eval-columns');
    await ui.page.click('#compare-selected');
    await ui.page.waitForSelector('#compare-eval');
    expect(await ui.page.locator('#compare-runs li').count()).toBe(2);
  });

  it('refuses fewer than 2 runs with a message', async () => {
    await ui.page.goto(url(`/ui/compare?runs=${runIds[0]}`));
    await ui.page.waitForSelector('.banner.error');
    expect(await ui.page.textContent('.banner.error')).toContain('Compare takes 2 to 8 runs');
  });
});
