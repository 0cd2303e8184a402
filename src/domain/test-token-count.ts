// The number of tokens `mlx_lm lora --test` scores: a small Python step with mlx-lm's own tokenizer, dataset and batching.
//
// `mlx_lm lora --test` prints only `Test loss …, Test ppl ….`; its evaluate() averages the loss over `ntokens`, the
// sum of default_loss's mask (target positions `offset <= step <= length` of each batch) and never prints it. This
// step counts the same figure with the same MLX_PYTHON: mlx_lm.utils.load_tokenizer on the model folder,
// mlx_lm.tuner.datasets.load_dataset (so chat templates and --mask-prompt offsets are the tool's), and
// mlx_lm.tuner.trainer.iterate_batches (same order, truncation and padding, the same seeded choice of batches when
// test_batches is below the split's), with the mask computed as default_loss computes it.

/** `mlx_lm lora --test` is given this seed, so the count draws the same batches when only some are scored. */
export const LORA_TEST_SEED = 0;

/** mlx_lm lora's default --max-seq-length (CONFIG_DEFAULTS). */
export const LORA_DEFAULT_MAX_SEQ_LENGTH = 2048;

export const TEST_TOKENS_MARK = 'MLXQ-TEST-TOKENS ';

const SCRIPT = [
  'import itertools, json, sys, types',
  'from pathlib import Path',
  'import numpy as np',
  'from mlx_lm.tuner.datasets import CacheDataset, load_dataset',
  'from mlx_lm.tuner.trainer import iterate_batches',
  'from mlx_lm.utils import load_tokenizer',
  'a = json.loads(sys.argv[1])',
  'model = Path(a["model"])',
  'eos = json.loads((model / "config.json").read_text()).get("eos_token_id")',
  // mlx_lm.lora run(): np.random.seed(args.seed) first; nothing draws from numpy before evaluate's batches.
  'np.random.seed(a["seed"])',
  'tokenizer = load_tokenizer(model, {}, eos_token_ids=eos)',
  'args = types.SimpleNamespace(data=a["data"], train=False, test=True, mask_prompt=a["mask_prompt"])',
  '_, _, test = load_dataset(args, tokenizer)',
  'limit = itertools.count() if a["test_batches"] == -1 else range(a["test_batches"])',
  'tokens = batches = 0',
  'for _, (batch, lengths) in zip(limit, iterate_batches(dataset=CacheDataset(test), batch_size=a["batch_size"], max_seq_length=a["max_seq_length"])):',
  '    lengths = np.asarray(lengths)',
  // default_loss: targets = batch[:, 1:]; steps = arange(1, targets.shape[1] + 1); mask = offset <= steps <= length.
  '    steps = np.arange(1, np.asarray(batch).shape[1])',
  '    mask = np.logical_and(steps >= lengths[:, 0:1], steps <= lengths[:, 1:])',
  '    tokens += int(mask.sum())',
  '    batches += 1',
  `print(${JSON.stringify(TEST_TOKENS_MARK)} + json.dumps({"tokens": tokens, "batches": batches}))`,
].join('\n');

export interface TestTokensArgs {
  python: string;
  model: string;
  data: string;
  batchSize: number;
  testBatches: number;
  maxSeqLength?: number;
  maskPrompt?: boolean;
}

export function testTokensArgv(a: TestTokensArgs): string[] {
  const spec = {
    model: a.model,
    data: a.data,
    batch_size: a.batchSize,
    test_batches: a.testBatches,
    max_seq_length: a.maxSeqLength ?? LORA_DEFAULT_MAX_SEQ_LENGTH,
    mask_prompt: a.maskPrompt === true,
    seed: LORA_TEST_SEED,
  };
  return [a.python, '-c', SCRIPT, JSON.stringify(spec)];
}

export interface TestTokens {
  tokens: number;
  batches: number;
}

/** The step's last marked line; null when there is none or it does not hold two non-negative integers. */
export function parseTestTokens(stdout: string): TestTokens | null {
  const line = stdout
    .split('\n')
    .filter((l) => l.startsWith(TEST_TOKENS_MARK))
    .at(-1);
  if (!line) return null;
  try {
    const v = JSON.parse(line.slice(TEST_TOKENS_MARK.length)) as Partial<TestTokens>;
    const ok = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;
    return ok(v.tokens) && ok(v.batches) ? { tokens: v.tokens, batches: v.batches } : null;
  } catch {
    // Handled: an unreadable line is no count (the caller records why).
    return null;
  }
}
