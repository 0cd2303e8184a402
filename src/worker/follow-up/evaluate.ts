// The evaluate kind: test loss and perplexity with the invocation that works for the run's method.
import fs from 'node:fs';
import path from 'node:path';

import { ADAPTER_CONFIG_FILE, ADAPTER_FILE } from '../../domain/checkpoint-names.js';
import { loraTestArgv, trainerTestArgv } from '../../domain/follow-up-commands.js';
import { parseLoraTestOutput, parseTrainerTestOutput, testBatches } from '../../domain/follow-up-output.js';
import type { EvaluateOptions } from '../../domain/follow-up-request.js';
import { evaluationTool } from '../../domain/follow-up-rules.js';
import { jobOutputOf } from '../../domain/run-folder.js';
import { parseTestTokens, type TestTokensArgs, testTokensArgv } from '../../domain/test-token-count.js';
import { type FollowUpContext, JobFailure, type KindOutcome } from './context.js';
import { countRows } from './split-prompts.js';

export async function runEvaluate(ctx: FollowUpContext, o: EvaluateOptions): Promise<KindOutcome> {
  const { run } = ctx;
  const trainType = (run.request.train_type as 'lora' | 'dora' | 'full' | undefined) ?? 'lora';
  const plan = evaluationTool(run.method, trainType);
  if ('refused' in plan) throw new JobFailure(plan.refused);
  const data = await ctx.resolveData(o.data ?? run.data);
  const rows = await countRows(path.join(data, 'test.jsonl'));
  if (rows === 0)
    throw new JobFailure(
      `${path.join(data, 'test.jsonl')} is missing or empty: evaluate needs a test split (or "data" naming a folder with one)`,
    );
  if (rows < o.batch_size)
    throw new JobFailure(`test.jsonl has ${rows} rows, fewer than batch_size ${o.batch_size}`);
  const batches = testBatches(rows, o.batch_size, o.test_batches);
  let score;
  let tokens: TokenFigure = { tokens: null, tokens_note: TRAINER_TOKENS_NOTE };
  if (plan.tool === 'mlx_lm') {
    const scoring = {
      python: ctx.config.mlxPython,
      model: ctx.model.dir,
      data,
      batchSize: o.batch_size,
      testBatches: o.test_batches,
      maxSeqLength: run.request.max_seq_length as number | undefined,
      maskPrompt: run.request.mask_prompt === true,
    };
    score = parseLoraTestOutput(
      (await ctx.tool(loraTestArgv({ ...scoring, adapterPath: run.adapterPath }), 'mlx_lm lora --test'))
        .stdout,
    );
    if (score) tokens = await countTokens(ctx, scoring);
  } else {
    // mlx_lm_lora.train --test overwrites adapter_config.json from its flags: it works on a copy.
    const copy = jobOutputOf(ctx.job.jobDir, 'adapterCopy');
    await fs.promises.mkdir(copy, { recursive: true });
    for (const f of [ADAPTER_CONFIG_FILE, ADAPTER_FILE])
      await fs.promises.copyFile(path.join(run.adapterPath, f), path.join(copy, f));
    const argv = trainerTestArgv(run.argv, {
      adapterPath: copy,
      data,
      batchSize: o.batch_size,
      testBatches: o.test_batches,
    });
    score = parseTrainerTestOutput((await ctx.tool(argv, 'mlx_lm_lora.train --test')).stdout);
  }
  if (!score) throw new JobFailure('the evaluation printed no test loss');
  const result = {
    ...score,
    batches,
    rows_scored: batches * o.batch_size,
    ...tokens,
    tool: plan.tool === 'mlx_lm' ? 'mlx_lm lora --test' : 'mlx_lm_lora.train --test',
    data,
  };
  const report = jobOutputOf(ctx.job.jobDir, 'evaluation');
  await fs.promises.writeFile(report, JSON.stringify(result, null, 2));
  return { result, artifacts: [{ kind: 'eval_report', path: report, verified: null }] };
}

/** `tokens` is the count of target tokens the loss averaged over, or null with `tokens_note` saying why. */
type TokenFigure = { tokens: number; tokens_note?: undefined } | { tokens: null; tokens_note: string };

/** The preference and RL modes weight their test loss their own way and print no count: there is nothing to match. */
const TRAINER_TOKENS_NOTE =
  'mlx_lm_lora.train --test prints no token count and weights its loss by its own mode, so no count is given';

/**
 * The token count of `mlx_lm lora --test` (see domain/test-token-count.ts). A count that cannot be made leaves the
 * score standing: tokens is null and tokens_note says why, and the log has the step's output.
 */
async function countTokens(ctx: FollowUpContext, a: TestTokensArgs): Promise<TokenFigure> {
  try {
    const counted = parseTestTokens(
      (await ctx.tool(testTokensArgv(a), 'the token count (mlx_lm tokenizer)')).stdout,
    );
    return counted
      ? { tokens: counted.tokens }
      : { tokens: null, tokens_note: 'the token count step printed no count' };
  } catch (err) {
    if (!(err instanceof JobFailure)) throw err;
    return { tokens: null, tokens_note: err.message };
  }
}
