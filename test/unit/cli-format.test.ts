import { describe, expect, it } from 'vitest';

import { formatApiError, formatArgv, formatDuration, formatIssue } from '../../src/cli/format.js';
import { finalLine, progressLine, type RunSummary } from '../../src/cli/progress.js';
import { rebaseYamlText } from '../../src/cli/rebase-paths.js';
import { parseSseChunk } from '../../src/cli/sse.js';

const progress = {
  iteration: null,
  total: null,
  percent: null,
  etaSeconds: null,
  latestLoss: null,
  latestValLoss: null,
};
const run = (over: Partial<RunSummary>): RunSummary => ({
  id: 'run_1',
  status: 'running',
  progress,
  ...over,
});

describe('progressLine', () => {
  it('draws iteration of total, percent, ETA and the latest losses while running', () => {
    const line = progressLine(
      run({
        progress: {
          ...progress,
          iteration: 8,
          total: 20,
          percent: 40,
          etaSeconds: 75,
          latestLoss: 1.23456,
          latestValLoss: 1.3,
        },
      }),
    );
    expect(line).toBe('[##########..............]  8/20 iterations  40%  ETA 1:15  loss 1.235  val 1.300');
  });

  it('says what a run waits for before the first iteration', () => {
    expect(progressLine(run({ status: 'queued' }))).toBe('run_1 queued, waiting for the worker');
    expect(progressLine(run({}))).toBe('run_1 running, loading the model and data');
    expect(progressLine(run({ status: 'interrupted' }))).toContain('resumes from its newest checkpoint');
  });

  it('a finished run has no ETA; the final line names the adapters or the error', () => {
    const done = run({
      status: 'succeeded',
      durationMs: 62_000,
      adapterFile: '/r/adapters/adapters.safetensors',
      progress: { ...progress, iteration: 20, total: 20, percent: 100, latestLoss: 0.5 },
    });
    expect(progressLine(done)).toBe('[########################]  20/20 iterations  100%  loss 0.500');
    expect(finalLine(done)).toBe('run_1 succeeded in 1:02; adapters: /r/adapters/adapters.safetensors');
    expect(finalLine(run({ status: 'failed', error: 'trainer exited 1' }))).toBe(
      'run_1 failed: trainer exited 1',
    );
  });
});

describe('formatting', () => {
  it('quotes argv for a POSIX shell only where needed', () => {
    expect(formatArgv(['python3', '-m', 'x', '--data', '/a b', "it's", '<dir>/c', ''])).toBe(
      `python3 -m x --data '/a b' 'it'\\''s' '<dir>/c' ''`,
    );
  });

  it('durations', () => {
    expect([formatDuration(0), formatDuration(75), formatDuration(3725)]).toEqual([
      '0:00',
      '1:15',
      '1:02:05',
    ]);
  });

  it('issues name file and line when they have one', () => {
    expect(formatIssue({ path: 'iters', message: 'm', line: 3 }, 'c.yaml')).toBe('c.yaml:3 iters: m');
    expect(formatIssue({ path: 'iters', message: 'm' }, 'c.yaml')).toBe('iters: m');
    expect(
      formatApiError(422, {
        error: 'invalid_dataset',
        message: 'x',
        problems: [{ file: 'train.jsonl', line: 4, message: 'blank line' }],
      }),
    ).toEqual({
      message: 'the dataset cannot train (HTTP 422):',
      details: ['train.jsonl:4 blank line'],
    });
  });
});

describe('parseSseChunk', () => {
  it('splits complete events and keeps the incomplete rest', () => {
    const { events, rest } = parseSseChunk(
      'id: 1\nevent: line\ndata: {"a":1}\n\n: ping\n\nevent: end\ndata: {}\n\nevent: li',
    );
    expect(events).toEqual([
      { event: 'line', data: '{"a":1}', id: '1' },
      { event: 'end', data: '{}' },
    ]);
    expect(rest).toBe('event: li');
  });
});

describe('rebaseYamlText', () => {
  it('makes existing relative paths absolute in place, keeping comments and line numbers', () => {
    const text =
      "# c\nmodel: mlx-community/x\ndata: ./d # here\nreward_functions_file: 'r.py'\nadapter_path: adapters\n";
    const exists = (p: string) => ['/w/d', '/w/r.py'].includes(p);
    const out = rebaseYamlText(text, '/w', exists);
    expect(out).toBe(
      '# c\nmodel: mlx-community/x\ndata: "/w/d" # here\nreward_functions_file: "/w/r.py"\nadapter_path: adapters\n',
    );
  });

  it('leaves a file with syntax errors alone (the service reports them)', () => {
    expect(rebaseYamlText('data: [d\n', '/w', () => true)).toBe('data: [d\n');
  });
});

describe('watchRun on a terminal', () => {
  it('redraws one line in place, then ends it and prints the result', async () => {
    const { watchRun } = await import('../../src/cli/watch.js');
    const states: RunSummary[] = [
      run({ status: 'queued' }),
      run({ progress: { ...progress, iteration: 5, total: 10, percent: 50, etaSeconds: 5, latestLoss: 1 } }),
      run({
        status: 'succeeded',
        durationMs: 10_000,
        adapterFile: '/a.safetensors',
        progress: { ...progress, iteration: 10, total: 10, percent: 100 },
      }),
    ];
    const api = { call: async () => states.shift() } as unknown as Parameters<typeof watchRun>[0];
    let out = '';
    const io = {
      out: (s: string) => void (out += s),
      err: (s: string) => void (out += s),
      isTty: true,
      cwd: '/',
      config: { apiUrl: 'http://x', apiToken: undefined, python: 'python3', notifyCommand: null },
      sleep: async () => undefined,
    };
    expect(await watchRun(api, io, 'run_1', 10)).toBe(0);
    expect(out).toBe(
      '\r\x1b[2Krun_1 queued, waiting for the worker' +
        '\r\x1b[2K[############............]  5/10 iterations  50%  ETA 0:05  loss 1.000' +
        '\r\x1b[2K[########################]  10/10 iterations  100%\n' +
        'run_1 succeeded in 0:10; adapters: /a.safetensors\n',
    );
  });
});
