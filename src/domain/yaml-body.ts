// Pure: YAML request bodies and config files, parsed as mlx-lm-lora reads its configs (PyYAML 1.1), with line
// numbers for every issue. The API's content-type parser and the CLI both read YAML through it.
import {
  type Document,
  isMap,
  isNode,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type ScalarTag,
} from 'yaml';

import { type FieldIssue, RequestValidationError } from './errors.js';
import { runRequestFromYamlConfig, yamlKeyFor } from './yaml-config.js';

/** A field issue pointed at its line in the YAML source. */
export interface LinedIssue extends FieldIssue {
  line?: number;
}

export interface YamlSource {
  /** The line (1-based) of a dotted path such as "lora_parameters.rank", or of its nearest present parent. */
  lineOf(path: string): number | undefined;
}

// PyYAML's booleans: YAML 1.1 without y/n (upstream loads configs with yaml.SafeLoader).
const pyyamlBool = (value: boolean, test: RegExp): ScalarTag => ({
  identify: (v) => v === value,
  default: true,
  tag: 'tag:yaml.org,2002:bool',
  test,
  resolve: () => value,
});
const PYYAML_BOOLS = [
  pyyamlBool(true, /^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/),
  pyyamlBool(false, /^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/),
];

const sources = new WeakMap<object, YamlSource>();

/** The YAML source of a body this module parsed, if it was one. */
export function yamlSourceOf(body: unknown): YamlSource | undefined {
  return typeof body === 'object' && body !== null ? sources.get(body) : undefined;
}

function lineFinder(doc: Document, counter: LineCounter): YamlSource['lineOf'] {
  const lineAt = (range: readonly number[] | null | undefined) =>
    range ? counter.linePos(range[0]!).line : undefined;
  return (path) => {
    let node: unknown = doc.contents;
    let line: number | undefined;
    for (const seg of path.split('.').filter(Boolean)) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
        if (!pair) break;
        line = (isScalar(pair.key) ? lineAt(pair.key.range) : undefined) ?? line;
        node = pair.value;
      } else if (isSeq(node) && /^\d+$/.test(seg)) {
        const item: unknown = node.items[Number(seg)];
        if (!isNode(item)) break;
        line = lineAt(item.range) ?? line;
        node = item;
      } else break;
    }
    return line;
  };
}

/** Parses a YAML text into a plain value; throws RequestValidationError naming each syntax error's line. */
export function parseYamlBody(text: string): { value: unknown; source: YamlSource } {
  const counter = new LineCounter();
  const doc = parseDocument(text, {
    version: '1.1',
    customTags: (tags) => [
      ...tags.filter((t) => typeof t === 'string' || t.tag !== 'tag:yaml.org,2002:bool'),
      ...PYYAML_BOOLS,
    ],
    lineCounter: counter,
    prettyErrors: true,
  });
  if (doc.errors.length > 0) {
    const issues: LinedIssue[] = doc.errors.map((e) => ({
      path: '',
      line: e.linePos?.[0].line,
      message: `YAML syntax error${e.linePos ? ` at column ${e.linePos[0].col}` : ''}: ${(e.message.split('\n')[0] ?? e.code).replace(/ at line \d+, column \d+:?$/, '')}`,
    }));
    throw new RequestValidationError(
      issues,
      `Invalid YAML: ${issues.map((i) => `line ${i.line ?? '?'}: ${i.message}`).join('; ')}`,
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (e) {
    // Unresolved aliases, bad merge keys and alias bombs throw here, after a clean parse: bad input, not a 500.
    throw new RequestValidationError([
      { path: '', message: `YAML cannot be loaded: ${(e as Error).message}` },
    ]);
  }
  const source = { lineOf: lineFinder(doc, counter) };
  if (typeof value === 'object' && value !== null) sources.set(value, source);
  return { value, source };
}

/** The issues with the line of their key added where the file has it. */
export function withLines(
  issues: readonly FieldIssue[],
  source: YamlSource,
  keyFor = yamlKeyFor,
): LinedIssue[] {
  return issues.map((i) => {
    const line = (i as LinedIssue).line ?? (i.path ? source.lineOf(keyFor(i.path)) : undefined);
    return line === undefined ? i : { ...i, line };
  });
}

/** Points each issue at its YAML line; `keyFor` maps a request path back to the key the file used. */
export function withYamlLines(
  error: RequestValidationError,
  source: YamlSource,
  keyFor = yamlKeyFor,
): RequestValidationError {
  const issues = withLines(error.issues, source, keyFor);
  const where = (i: LinedIssue) =>
    [i.line !== undefined ? `line ${i.line}` : '', i.path].filter(Boolean).join(' ');
  return new RequestValidationError(
    issues,
    `Invalid request: ${issues.map((i) => `${where(i) || '(body)'}: ${i.message}`).join('; ')}`,
  );
}

/**
 * Runs `use` on a run request body. A YAML body (an upstream config) is converted first; its conversion warnings
 * are returned, and validation issues are pointed at the file's lines. A JSON body passes through unchanged.
 */
export async function withRunBody<T>(
  raw: unknown,
  use: (body: unknown) => Promise<T>,
): Promise<{ result: T; warnings: FieldIssue[] }> {
  const source = yamlSourceOf(raw);
  if (!source) return { result: await use(raw), warnings: [] };
  try {
    const { body, warnings } = runRequestFromYamlConfig(raw);
    return { result: await use(body), warnings: withLines(warnings, source) };
  } catch (e) {
    throw e instanceof RequestValidationError ? withYamlLines(e, source) : e;
  }
}
