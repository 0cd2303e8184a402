// `methods [method]` lists the training methods and their parameters; `validate-data <dir> --method m` checks a dataset.
import path from 'node:path';

import type { DatasetReport } from '../../contract/datasets.js';
import type { MethodCatalogue, MethodEntry, MethodParameter } from '../../contract/methods.js';
import { apiError } from '../api-client.js';
import { CliError, EXIT, printJson } from '../cli-io.js';
import { formatTable } from '../format.js';
import { type CommandSpec, intOption, str } from './command-spec.js';

function rangeOf(p: MethodParameter): string {
  const lo = p.min !== null ? `>=${p.min}` : p.exclusiveMin !== null ? `>${p.exclusiveMin}` : '';
  const hi = p.max !== null ? `<=${p.max}` : p.exclusiveMax !== null ? `<${p.exclusiveMax}` : '';
  return p.choices ? p.choices.join('|') : [lo, hi].filter(Boolean).join(' ');
}

function describeMethod(m: MethodEntry): string {
  const rows = m.parameters.map((p) => [
    p.key + (p.required ? ' *' : ''),
    p.type + (p.yamlOnly ? ' (yaml)' : ''),
    p.default === null || p.default === undefined ? '' : `${String(p.default)}${p.fixed ? ' (fixed)' : ''}`,
    rangeOf(p),
    p.description,
  ]);
  return [
    `${m.title} (method ${m.method}, train_mode ${m.trainMode}): ${m.description}`,
    `requires: ${m.requires.join(', ')}`,
    `sample record: ${JSON.stringify(m.sampleRecord)}`,
    ...(m.rewardFunctions ? [`reward functions: ${m.rewardFunctions.join(', ')}`] : []),
    ...m.notes.map((n) => `note: ${n}`),
    '',
    formatTable(['KEY', 'TYPE', 'DEFAULT', 'RANGE', 'DESCRIPTION'], rows),
  ].join('\n');
}

export const methodsCommand: CommandSpec = {
  name: 'methods',
  usage: '[method] [--json]',
  summary: 'list the training methods, or one method with its parameters',
  options: { json: { type: 'boolean' } },
  positionals: { min: 0, max: 1 },
  async run({ api, io }, [name], values) {
    const { methods } = await api.call<MethodCatalogue>('GET', '/v1/methods');
    const chosen = name === undefined ? methods : methods.filter((m) => m.method === name);
    if (name !== undefined && chosen.length === 0) {
      throw new CliError(`unknown method "${name}"; one of ${methods.map((m) => m.method).join(', ')}`);
    }
    if (values.json) printJson(io, name === undefined ? methods : chosen[0]);
    else if (name !== undefined) io.out(`${describeMethod(chosen[0]!)}\n`);
    else
      io.out(
        `${formatTable(
          ['METHOD', 'TRAIN MODE', 'TITLE', 'DESCRIPTION'],
          methods.map((m) => [m.method, m.trainMode, m.title, m.description]),
        )}\n`,
      );
    return EXIT.ok;
  },
};

export const validateDataCommand: CommandSpec = {
  name: 'validate-data',
  usage: '<dir> --method m [--batch-size n] [--test] [--json]',
  summary: 'check a dataset directory for a method without queueing anything (exit 2 when it cannot train)',
  options: {
    method: { type: 'string', short: 'm' },
    'batch-size': { type: 'string' },
    test: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  positionals: { min: 1, max: 1 },
  async run({ api, io }, [dir], values) {
    const method = str(values.method);
    if (!method) throw new CliError('validate-data needs --method (see `mlxq methods`)');
    const body = {
      data: path.resolve(io.cwd, dir!),
      method,
      batch_size: intOption(values, 'batch-size', 4),
      test: values.test === true,
    };
    const res = await api.send('POST', '/v1/datasets/validate', { json: body });
    const answer = (await res.json().catch(() => ({}))) as DatasetReport;
    if (res.status !== 200 && res.status !== 422) throw apiError(res.status, answer);
    if (values.json) printJson(io, answer);
    else {
      const splits = Object.values(answer.splits)
        .filter((s) => s.present)
        .map((s) => `${s.file} ${s.rows} rows`);
      io.out(
        `${answer.dir}: ${answer.ok ? 'ok' : 'cannot train'} for ${method} (format ${answer.format ?? 'unknown'}; ${splits.join(', ') || 'no files'})\n`,
      );
      for (const p of answer.problems) io.out(`${p.file}${p.line ? `:${p.line}` : ''} ${p.message}\n`);
      if (answer.totalProblems > answer.problems.length)
        io.out(`... and ${answer.totalProblems - answer.problems.length} more\n`);
    }
    return answer.ok ? EXIT.ok : EXIT.badInput;
  },
};
