// YAML configs for the yaml-config tests: the upstream example files, YAML text to a run request as the API does it,
// and the issues it names.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { expect } from 'vitest';

import { RequestValidationError } from '../../src/domain/errors.js';
import { parseRunRequest } from '../../src/domain/run-request.js';
import { type LinedIssue, parseYamlBody, withYamlLines } from '../../src/domain/yaml-body.js';
import { runRequestFromYamlConfig } from '../../src/domain/yaml-config.js';

export const CONFIGS = fileURLToPath(new URL('../../test_data/configs/', import.meta.url));
export const readConfig = (name: string) => fs.readFileSync(path.join(CONFIGS, name), 'utf8');

export const base = {
  model: 'mlx-community/Qwen2.5-0.5B-Instruct-4bit',
  data: './test_data/grpo',
  iters: 10,
};

/** YAML text -> run request, the way the API does it (issues pointed at lines). */
export function fromYaml(text: string) {
  const { value, source } = parseYamlBody(text);
  try {
    const { body, warnings } = runRequestFromYamlConfig(value);
    return { ...parseRunRequest(body), yamlWarnings: warnings };
  } catch (e) {
    throw e instanceof RequestValidationError ? withYamlLines(e, source) : e;
  }
}

export function issuesOf(fn: () => unknown): LinedIssue[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RequestValidationError);
    return (e as RequestValidationError).issues;
  }
  throw new Error('expected a validation error');
}

export const paths = (ws: { path: string }[]) => ws.map((w) => w.path);
