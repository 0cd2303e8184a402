// The samples kind: greedy generations from the base model and from base plus adapter, for the same prompts.
import fs from 'node:fs';

import type { SamplesOptions } from '../../domain/follow-up-request.js';
import { jobOutputOf } from '../../domain/run-folder.js';
import { type FollowUpContext, generate, JobFailure, type KindOutcome } from './context.js';
import { splitPrompts } from './split-prompts.js';

export async function runSamples(ctx: FollowUpContext, o: SamplesOptions): Promise<KindOutcome> {
  const prompts = o.prompts ?? (await splitPrompts(await ctx.resolveData(ctx.run.data), o.split, o.count));
  if (prompts.length === 0)
    throw new JobFailure(
      `no prompts: the run's ${o.split} split has no record with a prompt; pass "prompts"`,
    );
  const items = [];
  for (const prompt of prompts) {
    const base = await generate(ctx, ctx.model.dir, undefined, prompt, o.max_tokens, o.system_prompt);
    const adapter = await generate(
      ctx,
      ctx.model.dir,
      ctx.run.adapterPath,
      prompt,
      o.max_tokens,
      o.system_prompt,
    );
    items.push({ prompt, base, adapter, differs: base.text !== adapter.text });
  }
  const result = {
    max_tokens: o.max_tokens,
    temp: 0,
    prompts: items,
    differing: items.filter((i) => i.differs).length,
  };
  const file = jobOutputOf(ctx.job.jobDir, 'samples');
  await fs.promises.writeFile(file, JSON.stringify(result, null, 2));
  return { result, artifacts: [{ kind: 'samples', path: file, verified: null }] };
}
