// `sweep <spec.yaml|json>`: queues a sweep; its base may be an inline request or an mlx-lm-lora config file.
import path from 'node:path';

import type { SubmittedSweep } from '../../contract/sweeps.js';
import { RequestValidationError } from '../../domain/errors.js';
import { parseYamlBody, withLines, withYamlLines, type YamlSource } from '../../domain/yaml-body.js';
import { runRequestFromYamlConfig, yamlKeyFor } from '../../domain/yaml-config.js';
import { CliError, type CliIo, EXIT, printJson } from '../cli-io.js';
import { formatIssue, formatWarning } from '../format.js';
import { rebaseObject } from '../rebase-paths.js';
import { isYamlName, jsonError, pathExists, readRunFile, readTextFile } from '../run-file.js';
import type { CommandSpec } from './command-spec.js';

type Spec = Record<string, unknown>;

function invalid(label: string, e: RequestValidationError, file?: string): CliError {
  return new CliError(
    `${label}: the sweep is invalid:`,
    EXIT.badInput,
    e.issues.map((i) => formatIssue(i, file)),
  );
}

interface SpecFile {
  spec: Spec;
  label: string;
  /** The spec's YAML source, when it is YAML. */
  source?: YamlSource;
}

function readSpec(file: string, io: CliIo): SpecFile {
  const { label, text } = readTextFile(file, io.cwd);
  let value: unknown;
  let source: YamlSource | undefined;
  if (!isYamlName(file, text)) {
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw jsonError(label, text, e);
    }
  } else {
    try {
      ({ value, source } = parseYamlBody(text));
    } catch (e) {
      throw e instanceof RequestValidationError ? invalid(label, e, label) : e;
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CliError(`${label}: a sweep spec must be a mapping`);
  return { spec: value as Spec, label, source };
}

/** The base as a run request: a config file path or an inline upstream-style mapping (YAML specs) is converted. */
function resolveBase({ spec, label: specLabel, source: specSource }: SpecFile, io: CliIo): Spec {
  let base = spec.base;
  let label = specLabel;
  let source = specSource;
  let keyFor = (p: string) => `base.${yamlKeyFor(p)}`;
  if (typeof base === 'string') {
    const baseFile = path.relative(io.cwd, path.resolve(path.dirname(path.resolve(io.cwd, specLabel)), base));
    const run = readRunFile(baseFile, io.cwd);
    if (run.kind === 'json') return { ...spec, base: run.value };
    [label, keyFor] = [run.label, yamlKeyFor];
    try {
      ({ value: base, source } = parseYamlBody(run.text));
    } catch (e) {
      throw e instanceof RequestValidationError ? invalid(label, e, label) : e;
    }
  } else if (!specSource || typeof base !== 'object' || base === null) {
    return spec;
  }
  try {
    const { body, warnings } = runRequestFromYamlConfig(base);
    for (const w of source ? withLines(warnings, source, keyFor) : warnings)
      io.err(`${formatWarning(w, label)}\n`);
    return { ...spec, base: rebaseObject(body, io.cwd, pathExists) };
  } catch (e) {
    if (!(e instanceof RequestValidationError)) throw e;
    throw invalid(label, source ? withYamlLines(e, source, keyFor) : e, label);
  }
}

export const sweepCommand: CommandSpec = {
  name: 'sweep',
  usage: '<spec.yaml|spec.json> [--json]',
  summary:
    'queue a sweep: {name?, base (a request, or a config file path), grid?, random?, metric, max_runs?}',
  options: { json: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run({ api, io }, [file], values) {
    const body = resolveBase(readSpec(file!, io), io);
    const sweep = await api.call<SubmittedSweep>('POST', '/v1/sweeps', { json: body });
    if (values.json) return printJson(io, sweep);
    io.out(`sweep ${sweep.id}${sweep.name ? ` (${sweep.name})` : ''}: ${sweep.runCount} run(s) queued\n`);
    for (const r of sweep.runs) io.out(`  ${r.runId}  ${JSON.stringify(r.values)}\n`);
    for (const w of sweep.warnings) io.err(`${formatWarning(w)}\n`);
    return EXIT.ok;
  },
};
