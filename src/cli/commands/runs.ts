// `list`, `show <id>`, `watch <id>` and `cancel <id>`: runs as the service records them.
import type { CancelledRun, RunDetail, RunList, RunSummary } from '../../contract/runs.js';
import { EXIT, printJson } from '../cli-io.js';
import { desktopNotice } from '../desktop-notice.js';
import { formatArgv, formatTable } from '../format.js';
import { progressLine } from '../progress.js';
import { watchRun } from '../watch.js';
import { type CommandSpec, intOption, str, watchInterval } from './command-spec.js';
import { runPath, runViewCommand } from './run-view.js';

const gb = (x: number | null | undefined) =>
  x === null || x === undefined ? 'unknown' : `${x.toFixed(2)} GB`;

function memoryLine(run: RunDetail): string | null {
  const m = run.memory;
  if (!m) return null;
  const estimate =
    m.estimate_gb === null
      ? m.reason
      : `estimate ${gb(m.estimate_gb)} (${m.fit === 'tight' ? 'fits, tight margin' : m.fit})`;
  return run.peakMemoryGb == null ? estimate : `${estimate}, measured peak ${gb(run.peakMemoryGb)}`;
}

/** An out-of-memory end said plainly: the peak, the estimate, what helps, and what on_oom reduce tried. */
function outOfMemoryLines(run: RunDetail): string[] {
  const oom = run.outOfMemory;
  if (!oom || run.stopReason !== 'out_of_memory') return [];
  return [
    `OUT OF MEMORY: peak ${gb(oom.peak_gb)}, estimate ${gb(oom.estimate_gb)}`,
    ...oom.advice.map((a) => `  try: ${a}`),
    ...oom.reductions.map((r) => `  retried (attempt ${r.attempt}): ${r.why}`),
  ];
}

function progressCell(r: RunSummary): string {
  const p = r.progress;
  return p.iteration !== null && p.total ? `${p.iteration}/${p.total}` : '-';
}

export const listCommand: CommandSpec = {
  name: 'list',
  usage: '[--status s] [--method m] [--model m] [--tag t] [--sweep id] [--limit n] [--json]',
  summary: 'list runs, newest first',
  options: {
    status: { type: 'string' },
    method: { type: 'string' },
    model: { type: 'string' },
    tag: { type: 'string' },
    sweep: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: { min: 0, max: 0 },
  async run({ api, io }, _positionals, values) {
    const query = {
      status: str(values.status),
      method: str(values.method),
      model: str(values.model),
      tag: str(values.tag),
      sweep: str(values.sweep),
      limit: intOption(values, 'limit', 20),
    };
    const page = await api.call<RunList>('GET', '/v1/runs', { query });
    if (values.json) return printJson(io, page);
    if (page.items.length === 0) {
      io.out('no runs\n');
      return EXIT.ok;
    }
    const rows = page.items.map((r) => [
      r.id,
      r.status,
      r.method ?? '',
      progressCell(r),
      r.progress.latestLoss === null ? '-' : r.progress.latestLoss.toFixed(3),
      r.createdAt?.replace('T', ' ').slice(0, 19) ?? '',
      r.name ?? r.model,
    ]);
    io.out(
      `${formatTable(['ID', 'STATUS', 'METHOD', 'ITER', 'LOSS', 'CREATED (UTC)', 'NAME / MODEL'], rows)}\n`,
    );
    return EXIT.ok;
  },
};

export const showCommand = runViewCommand({
  name: 'show',
  summary: 'show a run: status, progress, error, adapters, command',
  get: (api, id) => api.call<RunDetail>('GET', runPath(id)),
  text: (run) => {
    const fields: [string, string | null | undefined][] = [
      ['id', run.id],
      ['name', run.name],
      ['method', run.method],
      ['status', run.status],
      ['progress', progressLine(run)],
      ['model', run.model],
      ['data', run.data],
      ['error', run.stopReason === 'out_of_memory' ? run.error?.split('\n', 1)[0] : run.error],
      ['memory', memoryLine(run)],
      ['adapters', run.adapterFile ?? run.adapterPath],
      ['checkpoints', run.checkpoints?.length ? run.checkpoints.join(', ') : null],
      ['created', run.createdAt],
      ['started', run.startedAt],
      ['finished', run.finishedAt],
      ['command', formatArgv(run.argv)],
    ];
    const lines = [
      ...fields.flatMap(([k, v]) => (v ? [`${`${k}:`.padEnd(13)}${v}`] : [])),
      ...outOfMemoryLines(run),
      ...(run.warnings ?? []).map((w) => `${'warning:'.padEnd(13)}${w.path}: ${w.message}`),
    ];
    return lines.map((line) => `${line}\n`).join('');
  },
});

export const watchCommand: CommandSpec = {
  name: 'watch',
  usage: '<run-id> [--interval ms] [--notify]',
  summary:
    'follow a run with a progress bar (iteration of total, ETA, latest loss) until it ends; --notify tells the desktop when it does',
  options: { interval: { type: 'string' }, notify: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run({ api, io }, [id], values) {
    const code = await watchRun(api, io, id!, watchInterval(values));
    if (values.notify) {
      const run = await api.call<RunDetail>('GET', runPath(id!));
      const name = run.name ?? run.id;
      const what = run.stopReason === 'out_of_memory' ? 'ran out of memory' : run.status;
      await desktopNotice(
        io,
        `mlxq: run ${what}`,
        run.error ? `${name}: ${run.error.split('\n', 1)[0]}` : name,
      );
    }
    return code;
  },
};

export const cancelCommand: CommandSpec = {
  name: 'cancel',
  usage: '<run-id>',
  summary: 'cancel a queued or running run',
  options: {},
  positionals: { min: 1, max: 1 },
  async run({ api, io }, [id]) {
    const run = await api.call<CancelledRun>('POST', `${runPath(id!)}/cancel`);
    io.out(
      run.status === 'cancelled'
        ? `${run.id} cancelled\n`
        : `${run.id} cancel requested; the worker is stopping the trainer (\`mlxq watch ${run.id}\` to follow)\n`,
    );
    return EXIT.ok;
  },
};
