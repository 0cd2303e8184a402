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
import { type CommandSpec, intOption, str } from './command-spec.js';

const strings = (v: unknown): string[] | undefined =>
  Array.isArray(v) && v.length ? v.map(String) : undefined;

export const evalCommand: CommandSpec = {
  name: 'eval',
  usage: '<run-id> [--data dir] [--test-batches n] [--batch-size n] [--json]',
  summary: 'test loss and perplexity of a succeeded run',
  options: {
    data: { type: 'string' },
    'test-batches': { type: 'string' },
    'batch-size': { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: { min: 1, max: 1 },
  run: ({ api, io }, [id], v) =>
    runFollowUp(
      api,
      io,
      id!,
      {
        kind: 'evaluate',
        data: str(v.data),
        test_batches: v['test-batches'] === undefined ? undefined : intOption(v, 'test-batches', -1, -1),
        batch_size: v['batch-size'] === undefined ? undefined : intOption(v, 'batch-size', 1),
      },
      {
        json: v.json === true,
        print: (j) => {
          const r = j.result as EvaluateResult;
          return `test_loss ${r.test_loss}  test_ppl ${r.test_ppl}  batches ${r.batches}  tokens ${r.tokens ?? `- (${r.tokens_note})`}  (${r.tool})\n`;
        },
      },
    ),
};

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

export const samplesCommand: CommandSpec = {
  name: 'samples',
  usage: '<run-id> [--prompt p]... [--count n] [--split valid|test] [--max-tokens n] [--json]',
  summary: 'greedy answers of the base model and of base + adapter, side by side',
  options: {
    prompt: { type: 'string', multiple: true },
    count: { type: 'string' },
    split: { type: 'string' },
    'max-tokens': { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: { min: 1, max: 1 },
  run: ({ api, io }, [id], v) =>
    runFollowUp(
      api,
      io,
      id!,
      {
        kind: 'samples',
        prompts: strings(v.prompt),
        count: v.count === undefined ? undefined : intOption(v, 'count', 5),
        split: str(v.split),
        max_tokens: v['max-tokens'] === undefined ? undefined : intOption(v, 'max-tokens', 256),
      },
      { json: v.json === true, print: printSamples },
    ),
};

function dequantizeOption(v: string | undefined): 'auto' | boolean | undefined {
  if (v === undefined || v === 'auto') return v;
  if (v === 'true' || v === 'false') return v === 'true';
  throw new CliError('--dequantize must be auto, true or false');
}

export const fuseCommand: CommandSpec = {
  name: 'fuse',
  usage: '<run-id> [--dequantize auto|true|false] [--verify-prompt p]... [--no-verify] [--json]',
  summary: 'fuse the adapter into a fresh folder and prove the fused model answers like base + adapter',
  options: {
    dequantize: { type: 'string' },
    'verify-prompt': { type: 'string', multiple: true },
    'no-verify': { type: 'boolean' },
    json: { type: 'boolean' },
  },
  positionals: { min: 1, max: 1 },
  run: ({ api, io }, [id], v) => {
    const prompts = strings(v['verify-prompt']);
    const verify = v['no-verify'] ? false : prompts ? { prompts } : undefined;
    return runFollowUp(
      api,
      io,
      id!,
      { kind: 'fuse', dequantize: dequantizeOption(str(v.dequantize)), verify },
      {
        json: v.json === true,
        print: (j) => {
          const r = j.result as FuseResult;
          return `fused model: ${r.path}\nverified: ${String(r.verified)}${r.dequantized ? ' (dequantized)' : ''}\n`;
        },
      },
    );
  },
};

export const exportCommand: CommandSpec = {
  name: 'export',
  usage: '<run-id> --format gguf|mlx|lmstudio|ollama [--bits n] [--group-size n] [--name s] [--json]',
  summary:
    'export a verified fuse (made first when there is none) as GGUF, quantized MLX, LM Studio or Ollama',
  options: {
    format: { type: 'string' },
    bits: { type: 'string' },
    'group-size': { type: 'string' },
    name: { type: 'string' },
    json: { type: 'boolean' },
  },
  positionals: { min: 1, max: 1 },
  run: ({ api, io }, [id], v) => {
    if (!str(v.format)) throw new CliError('--format is required (gguf, mlx, lmstudio or ollama)');
    return runFollowUp(
      api,
      io,
      id!,
      {
        kind: 'export',
        format: str(v.format),
        bits: v.bits === undefined ? undefined : intOption(v, 'bits', 4),
        group_size: v['group-size'] === undefined ? undefined : intOption(v, 'group-size', 64),
        name: str(v.name),
      },
      {
        json: v.json === true,
        print: (j) => {
          const r = j.result as ExportResult;
          return `${r.format}: ${r.path}\n${r.command ? `then run: ${r.command}\n` : ''}`;
        },
      },
    );
  },
};

export const artifactsCommand: CommandSpec = {
  name: 'artifacts',
  usage: '<run-id> [--json]',
  summary: 'list what a run produced: adapter, checkpoints, fused model, exports, reports',
  options: { json: { type: 'boolean' } },
  positionals: { min: 1, max: 1 },
  async run({ api, io }, [id], v) {
    const body = await api.call<RunArtifacts>('GET', `/v1/runs/${encodeURIComponent(id!)}/artifacts`);
    if (v.json) io.out(`${JSON.stringify(body, null, 2)}\n`);
    else {
      const rows = body.items.map((a) => [
        a.id,
        a.kind,
        a.name,
        String(a.bytes),
        a.verified === null ? '-' : String(a.verified),
        a.sha256.slice(0, 16),
      ]);
      io.out(`${formatTable(['ID', 'KIND', 'NAME', 'BYTES', 'VERIFIED', 'SHA256'], rows)}\n`);
    }
    return 0;
  },
};
