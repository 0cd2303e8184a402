// Builds a run file's trainer command without the service: the same validation and command builder, no dataset check.
import { buildCommand } from '../domain/build-command.js';
import { RequestValidationError } from '../domain/errors.js';
import { runDirOf } from '../domain/run-folder.js';
import { type ParsedRunRequest, parseRunRequest } from '../domain/run-request.js';
import { type LinedIssue, parseYamlBody, withLines, withYamlLines } from '../domain/yaml-body.js';
import { runRequestFromYamlConfig } from '../domain/yaml-config.js';
import { CliError, EXIT } from './cli-io.js';
import { formatIssue } from './format.js';
import type { RunFile } from './run-file.js';

/** Where the service would put the run; unknown offline. */
export const OFFLINE_RUN_DIR = runDirOf('<data-dir>', '<run-id>');

export interface LocalCommand {
  argv: string[];
  config: string;
  warnings: LinedIssue[];
}

function parseFile(file: RunFile): { parsed: ParsedRunRequest; yamlWarnings: LinedIssue[] } {
  if (file.kind === 'json') return { parsed: parseRunRequest(file.value), yamlWarnings: [] };
  const { value, source } = parseYamlBody(file.text);
  try {
    const { body, warnings } = runRequestFromYamlConfig(value);
    return { parsed: parseRunRequest(body), yamlWarnings: withLines(warnings, source) };
  } catch (e) {
    throw e instanceof RequestValidationError ? withYamlLines(e, source) : e;
  }
}

export function buildLocalCommand(file: RunFile, python: string): LocalCommand {
  try {
    const { parsed, yamlWarnings } = parseFile(file);
    const built = buildCommand(parsed.request, { python, runDir: OFFLINE_RUN_DIR });
    return { argv: built.argv, config: built.configYaml, warnings: [...yamlWarnings, ...parsed.warnings] };
  } catch (e) {
    if (!(e instanceof RequestValidationError)) throw e;
    const label = file.kind === 'yaml' ? file.label : undefined;
    throw new CliError(
      `${file.label}: the request is invalid:`,
      EXIT.badInput,
      e.issues.map((i) => formatIssue(i, label)),
    );
  }
}
