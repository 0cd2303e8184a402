// `eval`, `samples`, `fuse` and `export`: follow-up jobs of a succeeded run, followed to their end.
import type {
  EvaluateResult,
  ExportResult,
  FuseResult,
  JobDetail,
  RunArtifacts,
  SamplesResult,
} from '../../contract/jobs.js';
import { CliError } from '../cli-io.js';
import { runFollowUp } from '../follow-up-wait.js';
import { formatTable } from '../format.js';
import { type CommandSpec, optionalInt, type OptionValues, str } from './command-spec.js';
import { runPath, runViewCommand } from './run-view.js';

const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.length ? v.map(String) : undefined;

/**
 * `<name> <run-id> [options] [--json]`: submits the follow-up job `body` makes of the options and follows it to its
 * end; `print` writes its result without --json.
 */
function followUpCommand(spec: {
  name: string;
  /** The options after `<run-id>`, without --json. */
  usage: string;
  summary: string;
  options: CommandSpec['options'];
  body: (values: OptionValues) => Record<string, unknown>;
  print: (job: JobDetail) => string;
}): CommandSpec {
  return {
    name: spec.name,
    usage: `<run-id> ${spec.usage} [--json]`,
    summary: spec.summary,
    options: { ...spec.options, json: { type: 'boolean' } },
    positionals: { min: 1, max: 1 },
    run: ({ api, io }, [id], v) =>
      runFollowUp(api, io, id!, spec.body(v), { json: v.json === true, print: spec.print }),
  };
}

export const evalCommand = followUpCommand({
  name: 'eval',
  usage: '[--data dir] [--test-batches n] [--batch-size n]',
  summary: 'test loss and perplexity of a succeeded run',
  options: {
    data: { type: 'string' },
    'test-batches': { type: 'string' },
    'batch-size': { type: 'string' },
  },
  body: (v) => ({
    kind: 'evaluate',
    data: str(v.data),
    test_batches: optionalInt(v, 'test-batches', -1),
    batch_size: optionalInt(v, 'batch-size'),
  }),
  print: (j) => {
    const r = j.result as EvaluateResult;
    return `test_loss ${r.test_loss}  test_ppl ${r.test_ppl}  batches ${r.batches}  tokens ${r.tokens ?? `- (${r.tokens_note})`}  (${r.tool})\n`;
  },
});

function printSamples(j: JobDetail): string {
  const out: string[] = [];
  for (const [i, p] of (j.result as SamplesResult).prompts.entries()) {
    out.push(
      `#${i + 1} ${p.prompt}`,
      `  base    (${p.base.generationTokens} tok, ${p.base.generationTps} tok/s): ${p.base.text}`,
      `  adapter (${p.adapter.generationTokens} tok, ${p.adapter.generationTps} tok/s): ${p.adapter.text}`,
      '',
    );
  }
  return `${out.join('\n')}\n`;
}

export const samplesCommand = followUpCommand({
  name: 'samples',
  usage: '[--prompt p]... [--count n] [--split valid|test] [--max-tokens n]',
  summary: 'greedy answers of the base model and of base + adapter, side by side',
  options: {
    prompt: { type: 'string', multiple: true },
    count: { type: 'string' },
    split: { type: 'string' },
    'max-tokens': { type: 'string' },
  },
  body: (v) => ({
    kind: 'samples',
    prompts: strings(v.prompt),
    count: optionalInt(v, 'count'),
    split: str(v.split),
    max_tokens: optionalInt(v, 'max-tokens'),
  }),
  print: printSamples,
});

function dequantizeOption(v: string | undefined): 'auto' | boolean | undefined {
  if (v === undefined || v === 'auto') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new CliError('--dequantize must be auto, true or false');
}

export const fuseCommand = followUpCommand({
  name: 'fuse',
  usage: '[--dequantize auto|true|false] [--verify-prompt p]... [--no-verify]',
  summary: 'fuse the adapter into a fresh folder and prove the fused model answers like base + adapter',
  options: {
    dequantize: { type: 'string' },
    'verify-prompt': { type: 'string', multiple: true },
    'no-verify': { type: 'boolean' },
  },
  body: (v) => {
    const prompts = strings(v['verify-prompt']);
    const verify = v['no-verify'] ? false : prompts ? { prompts } : undefined;
    return { kind: 'fuse', dequantize: dequantizeOption(str(v.dequantize)), verify };
  },
  print: (j) => {
    const r = j.result as FuseResult;
    return `fused model: ${r.path}\nverified: ${String(r.verified)}${r.dequantized ? ' (dequantized)' : ''}\n`;
  },
});

export const exportCommand = followUpCommand({
  name: 'export',
  usage: '--format gguf|mlx|lmstudio|ollama [--bits n] [--group-size n] [--name s]',
  summary:
    'export a verified fuse (made first when there is none) as GGUF, quantized MLX, LM Studio or Ollama',
  options: {
    format: { type: 'string' },
    bits: { type: 'string' },
    'group-size': { type: 'string' },
    name: { type: 'string' },
  },
  body: (v) => {
    if (!str(v.format)) throw new CliError('--format is required (gguf, mlx, lmstudio or ollama)');
    return {
      kind: 'export',
      format: str(v.format),
      bits: optionalInt(v, 'bits'),
      group_size: optionalInt(v, 'group-size'),
      name: str(v.name),
    };
  },
  print: (j) => {
    const r = j.result as ExportResult;
    return `${r.format}: ${r.path}\n${r.command ? `then run: ${r.command}\n` : ''}`;
  },
});

export const artifactsCommand = runViewCommand({
  name: 'artifacts',
  summary: 'list what a run produced: adapter, checkpoints, fused model, exports, reports',
  get: (api, id) => api.call<RunArtifacts>('GET', `${runPath(id)}/artifacts`),
  text: (body) => {
    const rows = body.items.map((a) => [
      a.id,
      a.kind,
      a.name,
      String(a.bytes),
      a.verified === null ? '-' : String(a.verified),
      a.sha256.slice(0, 16),
    ]);
    return `${formatTable(['ID', 'KIND', 'NAME', 'BYTES', 'VERIFIED', 'SHA256'], rows)}\n`;
  },
});
