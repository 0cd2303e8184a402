// The fuse kind, proven: a fresh folder, dequantize auto, a disk check first, then greedy answers of the fused model
// compared with base + adapter on the verify prompts.
import fs from 'node:fs';
import path from 'node:path';

import { freeBytes } from '../../artifacts/artifact-files.js';
import { fuseArgv } from '../../domain/follow-up-commands.js';
import type { FuseOptions } from '../../domain/follow-up-request.js';
import { fuseDiskEstimate, shouldDequantize } from '../../domain/follow-up-rules.js';
import { outputDirOf } from '../../domain/run-folder.js';
import { type FollowUpContext, generate, JobFailure, type KindOutcome } from './context.js';
import { splitPrompts } from './split-prompts.js';

const GB = 1e9;
const gb = (n: number) => `${(n / GB).toFixed(n < GB ? 3 : 1)} GB`;

/** A new folder under the run for this job: a reused --save-path keeps stale shards that load with the new ones. */
export async function freshFolder(
  ctx: FollowUpContext,
  parent: 'fused' | 'exports',
  name: string,
): Promise<string> {
  const dir = outputDirOf(ctx.run.runDir, parent, name);
  // The folder is named by this job: one that exists on a later attempt is the partial output of an attempt whose
  // worker died (its tool was stopped before the job was queued again, and no artifact names it). It is removed, not
  // reused, so nothing stale is merged.
  if (ctx.job.attempt > 1 && fs.existsSync(dir)) await fs.promises.rm(dir, { recursive: true, force: true });
  if (fs.existsSync(dir))
    throw new JobFailure(
      `${dir} already exists; a fuse or export never writes into a used folder (stale shards would be merged)`,
    );
  await fs.promises.mkdir(path.dirname(dir), { recursive: true });
  return dir;
}

/** Refuses with the figures when the file system of the run folder has less free space than the estimate. */
export async function checkDisk(
  ctx: FollowUpContext,
  dequantize: boolean,
): Promise<{ estimate: number; free: number }> {
  const estimate = fuseDiskEstimate(ctx.model.weightBytes, ctx.model.quantization, dequantize);
  const free = (await freeBytes(ctx.run.runDir)) - ctx.config.diskReserveBytes;
  if (estimate > free) {
    const factor = ctx.model.weightBytes ? (estimate / ctx.model.weightBytes).toFixed(2) : '1';
    throw new JobFailure(
      `not enough disk space: the fused model needs about ${gb(estimate)} (model ${gb(ctx.model.weightBytes)} x ${factor}${dequantize && ctx.model.quantization ? ' for dequantizing' : ''}), and ${gb(Math.max(0, free))} are free in ${ctx.run.runDir} (keeping DISK_RESERVE_BYTES ${gb(ctx.config.diskReserveBytes)})`,
    );
  }
  return { estimate, free };
}

export interface VerifyResult {
  verified: boolean;
  prompts: number;
  max_tokens: number;
  mismatch?: {
    index: number;
    prompt: string;
    fused: string;
    adapter: string;
    base: string;
    adapterLost: boolean;
  };
}

/** Greedy answers of `fusedDir` must equal those of base + adapter, prompt by prompt. */
export async function verifyFused(
  ctx: FollowUpContext,
  fusedDir: string,
  prompts: string[],
  maxTokens: number,
): Promise<VerifyResult> {
  for (const [index, prompt] of prompts.entries()) {
    const adapter = await generate(ctx, ctx.model.dir, ctx.run.adapterPath, prompt, maxTokens);
    const fused = await generate(ctx, fusedDir, undefined, prompt, maxTokens);
    if (fused.text !== adapter.text) {
      const base = await generate(ctx, ctx.model.dir, undefined, prompt, maxTokens);
      return {
        verified: false,
        prompts: prompts.length,
        max_tokens: maxTokens,
        mismatch: {
          index,
          prompt,
          fused: fused.text,
          adapter: adapter.text,
          base: base.text,
          adapterLost: fused.text === base.text,
        },
      };
    }
  }
  return { verified: true, prompts: prompts.length, max_tokens: maxTokens };
}

export async function verifyPrompts(
  ctx: FollowUpContext,
  verify: Exclude<FuseOptions['verify'], false>,
): Promise<string[]> {
  const prompts =
    verify.prompts ?? (await splitPrompts(await ctx.resolveData(ctx.run.data), 'valid', verify.count));
  if (prompts.length === 0)
    throw new JobFailure(
      'no verify prompts: the run\'s data has no record with a prompt; pass "verify": {"prompts": [...]}',
    );
  return prompts;
}

export function mismatchMessage(v: VerifyResult): string {
  const m = v.mismatch!;
  const lost = m.adapterLost
    ? ' It answers like the base model: the adapter was lost (a quantized base fused without dequantizing rounds the adapter away).'
    : '';
  return `the fused model does not reproduce the adapter: prompt #${m.index + 1} ${JSON.stringify(m.prompt)} gives ${JSON.stringify(m.fused.slice(0, 200))} fused, ${JSON.stringify(m.adapter.slice(0, 200))} with the adapter.${lost}`;
}

export async function runFuse(ctx: FollowUpContext, o: FuseOptions): Promise<KindOutcome> {
  const dequantize = shouldDequantize(o.dequantize, ctx.model.quantization);
  const disk = await checkDisk(ctx, dequantize);
  const prompts = o.verify === false ? [] : await verifyPrompts(ctx, o.verify);
  const savePath = await freshFolder(ctx, 'fused', ctx.job.id);
  await ctx.tool(
    fuseArgv({
      python: ctx.config.mlxPython,
      model: ctx.model.dir,
      adapterPath: ctx.run.adapterPath,
      savePath,
      dequantize,
    }),
    'mlx_lm fuse',
  );
  const base = {
    path: savePath,
    dequantized: dequantize,
    base_quantization: ctx.model.quantization,
    disk_estimate_bytes: disk.estimate,
  };
  if (o.verify === false) {
    return {
      result: { ...base, verified: null, verification: 'skipped (verify: false)' },
      artifacts: [{ kind: 'fused_model', path: savePath, verified: null }],
    };
  }
  const v = await verifyFused(ctx, savePath, prompts, o.verify.max_tokens);
  if (!v.verified) throw new JobFailure(mismatchMessage(v), { ...base, verified: false, verification: v });
  return {
    result: { ...base, verified: true, verification: v },
    artifacts: [{ kind: 'fused_model', path: savePath, verified: true }],
  };
}
