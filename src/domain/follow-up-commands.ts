// Pure argv builders for the follow-up tools: mlx_lm generate, fuse, lora --test, convert, and mlx_lm_lora.train --test.
import { flagArg, TRAINER_ENV } from './build-command.js';
import { LORA_TEST_SEED } from './test-token-count.js';

/** The child environment for every follow-up tool (unbuffered, UTF-8), added to the inherited one. */
export const FOLLOW_UP_ENV: Readonly<Record<string, string>> = TRAINER_ENV;

export interface GenerateArgs {
  python: string;
  model: string;
  adapterPath?: string;
  prompt: string;
  maxTokens: number;
  systemPrompt?: string;
}

/** Greedy (`--temp 0`): deterministic for the same weights, so base, adapter and fused answers can be compared. */
export function generateArgv(a: GenerateArgs): string[] {
  const argv = [a.python, '-m', 'mlx_lm', 'generate', '--model', a.model];
  if (a.adapterPath) argv.push('--adapter-path', a.adapterPath);
  // --prompt=<p>: a prompt that begins with "-" must not read as a flag.
  argv.push(`--prompt=${a.prompt}`, '--max-tokens', String(a.maxTokens), '--temp', '0');
  if (a.systemPrompt) argv.push(`--system-prompt=${a.systemPrompt}`);
  return argv;
}

export interface FuseArgs {
  python: string;
  model: string;
  adapterPath: string;
  savePath: string;
  dequantize: boolean;
  exportGguf?: boolean;
}

export function fuseArgv(a: FuseArgs): string[] {
  const argv = [
    a.python,
    '-m',
    'mlx_lm',
    'fuse',
    '--model',
    a.model,
    '--adapter-path',
    a.adapterPath,
    '--save-path',
    a.savePath,
  ];
  if (a.dequantize) argv.push('--dequantize');
  if (a.exportGguf) argv.push('--export-gguf');
  return argv;
}

export interface ConvertArgs {
  python: string;
  model: string;
  mlxPath: string;
  bits: number;
  groupSize: number;
}

export function convertArgv(a: ConvertArgs): string[] {
  return [
    a.python,
    '-m',
    'mlx_lm',
    'convert',
    '--model',
    a.model,
    '--mlx-path',
    a.mlxPath,
    '-q',
    '--q-bits',
    String(a.bits),
    '--q-group-size',
    String(a.groupSize),
  ];
}

export interface LoraTestArgs {
  python: string;
  model: string;
  /** "" evaluates the model as it is (a fused folder). */
  adapterPath: string;
  data: string;
  batchSize: number;
  testBatches: number;
  maxSeqLength?: number;
  maskPrompt?: boolean;
}

/** `mlx_lm lora --test`: the evaluation that works for SFT adapters; it does not rewrite adapter_config.json. */
export function loraTestArgv(a: LoraTestArgs): string[] {
  // --seed: which batches are scored when test_batches is below the split's; the token count draws the same ones.
  const argv = [
    a.python,
    '-m',
    'mlx_lm',
    'lora',
    '--model',
    a.model,
    '--adapter-path',
    a.adapterPath,
    '--data',
    a.data,
    '--test',
    '--batch-size',
    String(a.batchSize),
    '--test-batches',
    String(a.testBatches),
    '--seed',
    String(LORA_TEST_SEED),
  ];
  if (a.maxSeqLength !== undefined) argv.push('--max-seq-length', String(a.maxSeqLength));
  if (a.maskPrompt) argv.push('--mask-prompt');
  return argv;
}

/** Flags of a training argv that take no value. */
const TRAIN_ONLY_FLAGS = new Set(['--train']);
/** Flags (with their value) that a test-only run replaces. */
const REPLACED = new Set([
  '--adapter-path',
  '--data',
  '--test-batches',
  '--batch-size',
  '--resume-adapter-file',
]);

/**
 * `mlx_lm_lora.train --test` from the run's own training argv (same flags and YAML, as the facts advise, because it
 * overwrites adapter_config.json from them) pointed at a copy of the adapter folder.
 */
export function trainerTestArgv(
  trainArgv: readonly string[],
  a: { adapterPath: string; data: string; batchSize: number; testBatches: number },
): string[] {
  const argv: string[] = [];
  for (let i = 0; i < trainArgv.length; i++) {
    const arg = trainArgv[i]!;
    if (TRAIN_ONLY_FLAGS.has(arg)) continue;
    // The service writes `--flag=value` (older runs: `--flag value`).
    if (REPLACED.has(arg.split('=', 1)[0]!)) {
      if (!arg.includes('=')) i++;
      continue;
    }
    argv.push(arg);
  }
  argv.push(
    '--test',
    flagArg('--adapter-path', a.adapterPath),
    flagArg('--data', a.data),
    flagArg('--batch-size', String(a.batchSize)),
    flagArg('--test-batches', String(a.testBatches)),
  );
  return argv;
}
