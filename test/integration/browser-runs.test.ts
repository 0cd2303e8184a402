// Browser tests of the run pages in Debian's Chromium: submit through the form, watch a run live, cancel, list, validation.
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { http, httpJson, screenshot, useBrowserSession } from '../helpers/browser.js';
import { TEST_DATA } from '../helpers/test-env.js';
import { waitFor } from '../helpers/wait-for.js';

const MODEL = 'mlx-community/Qwen2.5-0.5B-Instruct-4bit';
// 0.25 s per iteration: a 24-iteration run lasts about six seconds, long enough to watch it move.
const ui = useBrowserSession(0.25);
const { url } = ui;

async function apiJson(method: string, p: string, body?: unknown) {
  const res = await httpJson(url(p), method, body);
  return { status: res.status, json: res.json() };
}

async function runStatus(id: string): Promise<string> {
  return (await apiJson('GET', `/v1/runs/${id}`)).json.status as string;
}

function sftRequest(extra: Record<string, unknown> = {}) {
  return {
    method: 'sft',
    model: MODEL,
    data: path.join(TEST_DATA, 'sft-chat'),
    iters: 24,
    batch_size: 2,
    steps_per_report: 2,
    steps_per_eval: 6,
    save_every: 12,
    ...extra,
  };
}

/** Opens the submit page and fills its SFT form: the model, the chat data set, then each field `#f-<name>` in order. */
async function fillSftForm(fields: Record<string, string>): Promise<void> {
  await ui.page.goto(url('/ui/submit'));
  await ui.page.selectOption('#f-method', 'sft');
  await ui.page.fill('#f-model', MODEL);
  await ui.page.fill('#f-data', path.join(TEST_DATA, 'sft-chat'));
  for (const [name, value] of Object.entries(fields)) await ui.page.fill(`#f-${name}`, value);
}

describe('the dashboard in a browser', () => {
  it('redirects / to /ui and serves the pages with a content security policy', async () => {
    const root = await http(url('/'), { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/ui');
    const bare = await http(url('/ui/runs/'), { redirect: 'manual' });
    expect(bare.headers.get('location')).toBe('/ui');
    const ui = await http(url('/ui'));
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(ui.text).toContain('/ui/static/js/runs-page.js');
    const uplot = await http(url('/ui/vendor/uplot/uPlot.esm.js'));
    expect(uplot.status).toBe(200);
    expect(uplot.text).toContain('export { uPlot as default }');
    expect((await http(url('/ui/vendor/uplot/package.json'))).status).toBe(404);
  });

  it('submits a run through the form, shows the dry-run command, then its progress, charts and live log until it succeeds', async () => {
    await fillSftForm({
      iters: '24',
      name: 'browser-submitted',
      tags: 'browser, form',
      batch_size: '2',
      steps_per_report: '2',
      steps_per_eval: '6',
      save_every: '12',
    });
    await expect.poll(() => ui.page.locator('#f-learning_rate').getAttribute('placeholder')).toBe('0.00001');

    await ui.page.click('#dry-run-button');
    const command = ui.page.locator('#dry-run-command');
    await command.waitFor();
    const text = await command.textContent();
    expect(text).toContain('mlx_lm_lora.train');
    expect(text).toContain('--iters=24');
    expect(text).toContain('--batch-size=2');
    await screenshot(ui.page, 'submit-dry-run');

    await ui.page.click('#submit-button');
    await ui.page.waitForURL(/\/ui\/runs\/[^/]+$/);
    const runId = decodeURIComponent(new URL(ui.page.url()).pathname.split('/').pop()!);
    expect(
      ((await apiJson('GET', `/v1/runs/${runId}`)).json.request as Record<string, unknown>).tags,
    ).toEqual(['browser', 'form']);

    // While it trains: the loss chart draws (uPlot canvas) and the log tail shows the trainer's report lines.
    await ui.page.locator('[data-chart="loss"] canvas').first().waitFor({ timeout: 30_000 });
    await ui.page.locator('#log', { hasText: 'Iter 2: loss' }).waitFor();
    await ui.page.locator('#eta', { hasText: 'left' }).waitFor();
    expect(await ui.page.locator('#log-state').textContent()).toContain('live');
    await screenshot(ui.page, 'run-training');

    await ui.page.locator('.page-head .status[data-status="succeeded"]').waitFor({ timeout: 30_000 });
    await ui.page.locator('#log', { hasText: 'Saved final weights' }).waitFor();
    await ui.page.locator('[data-chart="tokens"] canvas').first().waitFor();
    await ui.page.locator('[data-chart="memory"] canvas').first().waitFor();
    expect(await ui.page.locator('#progress-text').textContent()).toContain('Iteration 24 of 24');
    expect(await ui.page.locator('#command-text').textContent()).toContain('--iters=24');
    expect(await ui.page.locator('#parameters').textContent()).toContain('browser-submitted');
    // What it trained with: the worker's versions and machine, and the flag set the command was built for.
    await ui.page.locator('#environment', { hasText: 'mlx-lm-lora 3.1.2 (build_parser())' }).waitFor();
    expect(await ui.page.locator('#environment').textContent()).toMatch(/Python3\.\d+/);
    expect(await ui.page.locator('#cancel').count()).toBe(0);
    // Outputs and memory as label/value lists (empty values left out), the history as a table of transitions.
    expect(await ui.page.locator('#outputs dl.kv dt').allTextContents()).toEqual(
      expect.arrayContaining(['Run folder', 'Adapter path', 'Worker', 'Log']),
    );
    expect(await ui.page.locator('#memory dl.kv dt').first().textContent()).toBe('Estimate');
    expect(await ui.page.locator('#history table.data thead th').allTextContents()).toEqual([
      'When',
      'Status',
      'Attempt',
      'Reason',
    ]);
    expect(await ui.page.locator('#history tbody tr').count()).toBeGreaterThanOrEqual(2);
    await ui.page.evaluate('window.scrollTo(0, 0)');
    await screenshot(ui.page, 'run-succeeded');
    expect(await runStatus(runId)).toBe('succeeded');

    // "Run again with changes" opens the form filled from this run.
    await ui.page.click('#run-again');
    await ui.page.waitForURL(/\/ui\/submit\?from=/);
    await ui.page.locator('#prefill-note').waitFor();
    expect(await ui.page.inputValue('#f-iters')).toBe('24');
    expect(await ui.page.inputValue('#f-name')).toBe('browser-submitted');
    expect(await ui.page.inputValue('#f-tags')).toBe('browser, form');
    await screenshot(ui.page, 'submit-prefilled', { fullPage: false });
  });

  it('cancels a running run from its page', async () => {
    const created = await apiJson(
      'POST',
      '/v1/runs',
      sftRequest({ iters: 400, name: 'to-cancel', tags: ['cancel-me'] }),
    );
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    await ui.page.goto(url(`/ui/runs/${id}`));
    await ui.page.locator('.page-head .status[data-status="running"]').waitFor({ timeout: 30_000 });
    await ui.page.locator('#log', { hasText: 'Iter' }).waitFor();
    ui.page.once('dialog', (d) => void d.accept());
    await ui.page.click('#cancel');
    await ui.page.locator('.page-head .status[data-status="cancelled"]').waitFor({ timeout: 30_000 });
    await ui.page.locator('#log-state', { hasText: 'ended' }).waitFor();
    expect(await runStatus(id)).toBe('cancelled');
    await screenshot(ui.page, 'run-cancelled');
  });

  it('charts rewards and KL for a GRPO run', async () => {
    const created = await apiJson('POST', '/v1/runs', {
      method: 'grpo',
      model: MODEL,
      data: path.join(TEST_DATA, 'grpo'),
      iters: 8,
      batch_size: 2,
      steps_per_report: 2,
      steps_per_eval: 4,
      group_size: 4,
      temperature: 0.9,
      reward_functions: ['r1_accuracy_reward_func', 'r1_count_xml'],
      name: 'grpo-charts',
    });
    expect(created.status).toBe(201);
    await ui.page.goto(url(`/ui/runs/${created.json.id as string}`));
    await ui.page.locator('.page-head .status[data-status="succeeded"]').waitFor({ timeout: 30_000 });
    for (const chart of ['loss', 'rewards', 'kl', 'tokens', 'memory']) {
      await ui.page.locator(`[data-chart="${chart}"] canvas`).first().waitFor();
    }
    const legend = await ui.page.locator('[data-chart="rewards"] .u-legend').textContent();
    expect(legend).toContain('total_rewards_mean');
    expect(legend).toContain('reward/accuracy/mean');
    await ui.page.evaluate('window.scrollTo(0, 0)');
    await screenshot(ui.page, 'run-grpo');
  });

  it('lists runs with filters and search, and updates their status live', async () => {
    const created = await apiJson(
      'POST',
      '/v1/runs',
      sftRequest({ iters: 8, name: 'live-listed', tags: ['live'] }),
    );
    const id = created.json.id as string;
    await ui.page.goto(url('/ui?tag=live'));
    const row = ui.page.locator(`tr[data-run-id="${id}"]`);
    await row.waitFor();
    expect(await ui.page.locator('#runs-table tbody tr').count()).toBe(1);
    // The list polls: the row turns succeeded without a reload.
    await ui.page.locator(`tr[data-run-id="${id}"][data-status="succeeded"]`).waitFor({ timeout: 30_000 });

    await ui.page.goto(url('/ui'));
    await ui.page.locator('#runs-table tbody tr').first().waitFor();
    expect(await ui.page.locator('button', { hasText: 'Load more' }).isVisible()).toBe(false);
    const rows = ui.page.locator('#runs-table tbody tr');
    const notSucceeded = ui.page.locator('#runs-table tbody tr:not([data-status="succeeded"])');
    await waitFor(async () => (await notSucceeded.count()) > 0, { what: 'a run that did not succeed' });
    await ui.page.selectOption('select[name="status"]', 'succeeded');
    await waitFor(async () => (await notSucceeded.count()) === 0 && (await rows.count()) > 0, {
      what: 'only succeeded runs listed',
    });
    expect(await ui.page.locator(`tr[data-run-id="${id}"]`).count()).toBe(1);
    await ui.page.selectOption('select[name="status"]', '');
    await ui.page.fill('input[name="q"]', 'browser-sub');
    await waitFor(async () => (await ui.page.locator('#runs-table tbody tr').count()) === 1, {
      what: 'search to leave one run',
    });
    expect(await ui.page.locator('#runs-table tbody').textContent()).toContain('browser-submitted');
    await ui.page.fill('input[name="q"]', '');
    await waitFor(async () => (await ui.page.locator('#runs-table tbody tr').count()) >= 3, {
      what: 'all runs listed again',
    });
    await screenshot(ui.page, 'runs-list');
  });

  it('shows the server validation messages next to the fields they name', async () => {
    const body = {
      method: 'sft',
      model: MODEL,
      data: path.join(TEST_DATA, 'sft-chat'),
      iters: 10,
      learning_rate: 'fast',
      batch_size: 0,
    };
    const expected = await apiJson('POST', '/v1/runs?dryRun=true', body);
    expect(expected.status).toBe(400);
    const issues = expected.json.issues as { path: string; message: string }[];
    const byPath = new Map(issues.map((i) => [i.path, i.message]));
    expect([...byPath.keys()].sort()).toEqual(['batch_size', 'learning_rate']);

    await fillSftForm({ iters: '10', learning_rate: 'fast', batch_size: '0' });
    await ui.page.click('#dry-run-button');
    await ui.page.locator('#f-learning_rate-msg.error').waitFor();
    expect(await ui.page.locator('#f-learning_rate-msg').textContent()).toBe(byPath.get('learning_rate'));
    expect(await ui.page.locator('#f-batch_size-msg').textContent()).toBe(byPath.get('batch_size'));
    expect(await ui.page.locator('#form-errors').textContent()).toContain('2 fields to fix');
    await screenshot(ui.page, 'submit-validation');

    // A dataset with problems: the file and line go under the data field.
    await ui.page.fill('#f-learning_rate', '');
    await ui.page.fill('#f-batch_size', '');
    await ui.page.fill('#f-data', path.join(TEST_DATA, 'bad', 'invalid-lines'));
    await ui.page.click('#dry-run-button');
    await ui.page.locator('#f-data-msg.error').waitFor();
    expect(await ui.page.locator('#f-data-msg').textContent()).toMatch(/train\.jsonl line \d+/);
    expect(await ui.page.locator('#f-learning_rate-msg').textContent()).toBe('');
    await screenshot(ui.page, 'submit-dataset-problems');
  });
});
