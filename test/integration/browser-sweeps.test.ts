// Browser tests of the sweep page and the queue board in Debian's Chromium, against a real server, worker and sweep.
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { http, httpJson, screenshot, startServedEnv, useBrowserSession } from '../helpers/browser.js';
import { TEST_DATA } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

const MODEL = 'mlx-community/Qwen2.5-0.5B-Instruct-4bit';
const ui = useBrowserSession(0.1);
const { url } = ui;

async function getJson(p: string): Promise<Record<string, unknown>> {
  const res = await http(url(p));
  expect(res.status, p).toBe(200);
  return res.json();
}

async function createSweep(body: Record<string, unknown>): Promise<string> {
  const res = await httpJson(url('/v1/sweeps'), 'POST', body);
  expect(res.status, res.text).toBe(201);
  return res.json<{ id: string }>().id;
}

interface SweepRow {
  runId: string;
  status: string;
  values: Record<string, number>;
  objective: { final: { value: number } | null };
}

describe('the sweep page in a browser', () => {
  it('shows a two-parameter sweep as a heatmap and a sortable table with the best run highlighted', async () => {
    const sweepId = await createSweep({
      name: 'lr-by-seed',
      base: {
        method: 'sft',
        model: MODEL,
        data: path.join(TEST_DATA, 'sft-chat'),
        iters: 6,
        steps_per_report: 1,
        steps_per_eval: 3,
        save_every: 6,
      },
      grid: { learning_rate: [1e-5, 3e-5], seed: [0, 1, 2] },
      metric: { name: 'loss', goal: 'min' },
    });

    // The page is opened while the runs are queued and follows them to the end.
    await ui.page.goto(url(`/ui/sweeps/${sweepId}`));
    await ui.page.locator('#sweep-table tbody tr').first().waitFor();
    expect(await ui.page.locator('#sweep-table tbody tr').count()).toBe(6);
    expect(await ui.page.locator('#heatmap .cell').count()).toBe(6);
    const done = await waitFor(
      async () => {
        const s = await getJson(`/v1/sweeps/${sweepId}`);
        return (s.runs as SweepRow[]).every((r) => r.status === 'succeeded') && s.best ? s : null;
      },
      { timeoutMs: 60_000, what: 'the sweep to finish' },
    );
    const best = done.best as { runId: string; value: number };
    await ui.page.locator(`#sweep-table tr.best[data-run-id="${best.runId}"]`).waitFor({ timeout: 15_000 });
    await ui.page.locator('.page-head .status[data-status="done"]').waitFor({ timeout: 15_000 });
    await ui.page.locator(`#heatmap .cell.best[data-run-id="${best.runId}"]`).waitFor();
    expect(await ui.page.locator('#best-run').textContent()).toContain('Best run');
    expect(await ui.page.locator('#heatmap .cell.none').count()).toBe(0);
    await screenshot(ui.page, 'sweep-heatmap');

    // Sorting by the metric puts the best run first (lower is better), and again reverses the order.
    const header = ui.page.locator('#sweep-table th[data-sort-key="objective"]');
    await header.click();
    expect(await header.getAttribute('aria-sort')).toBe('ascending');
    expect(await ui.page.locator('#sweep-table tbody tr').first().getAttribute('data-run-id')).toBe(
      best.runId,
    );
    await header.click();
    expect(await header.getAttribute('aria-sort')).toBe('descending');
    expect(await ui.page.locator('#sweep-table tbody tr').last().getAttribute('data-run-id')).toBe(
      best.runId,
    );
    const values = await ui.page.locator('#sweep-table tbody tr td:nth-child(7)').allTextContents();
    const numbers = values.map(Number);
    expect(numbers).toEqual([...numbers].sort((a, b) => b - a));
  });

  it('charts a one-parameter sweep as the metric over that parameter', async () => {
    const sweepId = await createSweep({
      base: {
        method: 'sft',
        model: MODEL,
        data: path.join(TEST_DATA, 'sft-chat'),
        iters: 4,
        steps_per_report: 1,
        steps_per_eval: 2,
      },
      grid: { learning_rate: [1e-6, 1e-5, 1e-4] },
      metric: { name: 'loss', split: 'train', goal: 'min' },
    });
    await ui.page.goto(url(`/ui/sweeps/${sweepId}`));
    await ui.page.locator('[data-chart="param-learning_rate"] canvas').first().waitFor();
    await ui.page.locator('.page-head .status[data-status="done"]').waitFor({ timeout: 60_000 });
    await ui.page.locator('#sweep-table tr.best').waitFor();
    await screenshot(ui.page, 'sweep-one-parameter');
  });
});

describe('bull-board at /admin/queues', () => {
  it('lists the runs queue read-only with each job linked to its run page, and the worker', async () => {
    const created = await httpJson(url('/v1/runs'), 'POST', {
      method: 'sft',
      model: MODEL,
      data: path.join(TEST_DATA, 'sft-chat'),
      iters: 2,
    });
    const runId = created.json<{ id: string }>().id;
    const board = await http(url('/admin/queues'));
    expect(board.status).toBe(200);
    expect(board.text).toContain('<div id="root">');

    const body = (await getJson(
      `/admin/queues/api/queues?activeQueue=runs&status=latest&page=1&jobsPerPage=50`,
    )) as {
      queues: {
        name: string;
        readOnlyMode: boolean;
        description: string;
        jobs: { id: string; data: { runId: string }; externalUrl?: { href: string } }[];
      }[];
    };
    const queue = body.queues.find((q) => q.name === 'runs');
    expect(queue?.readOnlyMode).toBe(true);
    expect(queue?.description).toContain('run id');
    const job = queue?.jobs.find((j) => j.data.runId === runId);
    expect(job?.id).toBe(`train:${runId}:1`);
    expect(job?.externalUrl?.href).toBe(`/ui/runs/${runId}`);

    const workers = (await getJson('/admin/queues/api/queues/runs/workers')) as
      { workers: unknown[] } | unknown[];
    expect((Array.isArray(workers) ? workers : workers.workers).length).toBeGreaterThan(0);

    await ui.page.goto(url(`/admin/queues/queue/runs?status=latest`));
    await ui.page.getByText(runId).first().waitFor();
    await screenshot(ui.page, 'bull-board', { fullPage: false });
  });
});

describe('the pages with API_TOKEN set', () => {
  it('send the browser to the login form, then work with its cookie', async () => {
    const token = 'browser-test-token-0123456789';
    const locked = await startServedEnv(0.05, { API_TOKEN: token });
    const guest = await ui.newPage();
    try {
      expect((await http(`${locked.baseUrl}/v1/runs`)).status).toBe(401);
      await guest.goto(`${locked.baseUrl}/ui/submit`);
      await guest.waitForURL(/\/login\?next=%2Fui%2Fsubmit$/);
      await guest.fill('#token', token);
      await guest.click('button[type="submit"]');
      await guest.waitForURL(`${locked.baseUrl}/ui/submit`);
      // The form loads /v1/methods and posts a dry run with the cookie alone.
      await guest.fill('#f-model', MODEL);
      await guest.fill('#f-data', path.join(TEST_DATA, 'sft-chat'));
      await guest.fill('#f-iters', '3');
      await guest.click('#dry-run-button');
      expect(await guest.locator('#dry-run-command').textContent()).toContain('--iters=3');
      await guest.goto(`${locked.baseUrl}/admin/queues`);
      await guest.locator('text=runs').first().waitFor();
    } finally {
      await guest.close();
      await locked.env.cleanup();
    }
  });
});
