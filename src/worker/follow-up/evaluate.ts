// The evaluate kind: test loss and perplexity with the invocation that works for the run's method.
import fs from 'node:fs';
import path from 'node:path';

import { loraTestArgv, trainerTestArgv } from '../../domain/follow-up-commands.js';
import { parseLoraTestOutput, parseTrainerTestOutput, testBatches } from '../../domain/follow-up-output.js';
import type { EvaluateOptions } from '../../domain/follow-up-request.js';
import { evaluationTool } from '../../domain/follow-up-rules.js';
import { type FollowUpContext, JobFailure, type KindOutcome } from './context.js';
import { countRows } from './split-prompts.js';

export async function runEvaluate(ctx: FollowUpContext, o: EvaluateOptions): Promise<KindOutcome> {
  const { run } = ctx;
  const trainType = (run.request.train_type as 'lora' | 'dora' | 'full' | undefined) ?? 'lora';
  const plan = evaluationTool(run.method, trainType);
  if ('refused' in plan) throw new JobFailure(plan.refused);
  const data = await ctx.resolveData(o.data ?? run.data);
  const rows = await countRows(path.join(data, 'test.jsonl'));
  if (rows === 0) throw new JobFailure(`${path.join(data, 'test.jsonl')} is missing or empty: evaluate needs a test split (or "data" naming a folder with one)`);
  if (rows < o.batch_size) throw new JobFailure(`test.jsonl has ${rows} rows, fewer than batch_size ${o.batch_size}`);
  const batches = testBatches(rows, o.batch_size, o.test_batches);
  let score;
  if (plan.tool === 'mlx_lm') {
    const argv = loraTestArgv({
      python: ctx.config.mlxPython,
      model: ctx.model.dir,
      adapterPath: run.adapterPath,
      data,
      batchSize: o.batch_size,
      testBatches: o.test_batches,
      maxSeqLength: run.request.max_seq_length as number | undefined,
      maskPrompt: run.request.mask_prompt === true,
    });
    score = parseLoraTestOutput((await ctx.tool(argv, 'mlx_lm lora --test')).stdout);
  } else {
    // mlx_lm_lora.train --test overwrites adapter_config.json from its flags: it works on a copy.
    const copy = path.join(ctx.job.jobDir, 'adapters');
    await fs.promises.mkdir(copy, { recursive: true });
    for (const f of ['adapter_config.json', 'adapters.safetensors']) await fs.promises.copyFile(path.join(run.adapterPath, f), path.join(copy, f));
    const argv = trainerTestArgv(run.argv, { adapterPath: copy, data, batchSize: o.batch_size, testBatches: o.test_batches });
    score = parseTrainerTestOutput((await ctx.tool(argv, 'mlx_lm_lora.train --test')).stdout);
  }
  if (!score) throw new JobFailure('the evaluation printed no test loss');
  const result = { ...score, batches, rows_scored: batches * o.batch_size, tokens: null, tool: plan.tool === 'mlx_lm' ? 'mlx_lm lora --test' : 'mlx_lm_lora.train --test', data };
  const report = path.join(ctx.job.jobDir, 'eval.json');
  await fs.promises.writeFile(report, JSON.stringify(result, null, 2));
  return { result, artifacts: [{ kind: 'eval_report', path: report, verified: null }] };
}
