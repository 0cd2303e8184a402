// The export kind, from a verified fuse of the same run: gguf, mlx quantized, an LM Studio folder, an Ollama Modelfile.
import fs from 'node:fs';
import path from 'node:path';

import { RequestValidationError } from '../../domain/errors.js';
import { convertArgv, fuseArgv } from '../../domain/follow-up-commands.js';
import type { ExportOptions } from '../../domain/follow-up-request.js';
import { checkFollowUp } from '../../domain/follow-up-rules.js';
import { type FollowUpContext, JobFailure, type KindOutcome } from './context.js';
import { checkDisk, freshFolder } from './fuse.js';

/** The verified fuse this export starts from (its parent job in the chain). */
function verifiedFuse(ctx: FollowUpContext): string {
  const parent = ctx.parent;
  if (!parent) throw new JobFailure('an export needs the fuse job of its chain, and this one has none');
  if (parent.status !== 'succeeded')
    throw new JobFailure(
      `the fuse ${parent.id} this export needs ${parent.status}${parent.error ? `: ${parent.error}` : ''}`,
    );
  const fused = parent.fusedDir;
  if (parent.result?.verified !== true || fused === null)
    throw new JobFailure(`the fuse ${parent.id} is not verified; an export starts only from a verified fuse`);
  if (!fs.existsSync(fused)) throw new JobFailure(`the fused model ${fused} is gone`);
  return fused;
}

function modelName(ctx: FollowUpContext, o: ExportOptions): string {
  return (
    o.name ??
    ((ctx.run.name ?? ctx.run.id)
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 80) ||
      ctx.run.id)
  );
}

async function sameWeights(a: string, b: string): Promise<boolean> {
  const read = (d: string) => fs.promises.readFile(path.join(d, 'model.safetensors')).catch(() => null);
  const [x, y] = await Promise.all([read(a), read(b)]);
  return x !== null && y !== null && x.equals(y);
}

export async function runExport(ctx: FollowUpContext, o: ExportOptions): Promise<KindOutcome> {
  const fused = verifiedFuse(ctx);
  const py = ctx.config.mlxPython;
  switch (o.format) {
    case 'gguf': {
      try {
        checkFollowUp(o, {
          method: ctx.run.method,
          trainType: 'lora',
          modelType: ctx.model.modelType,
          quantization: ctx.model.quantization,
          mlxLmVersion: null,
        });
      } catch (e) {
        if (e instanceof RequestValidationError)
          throw new JobFailure(e.issues.map((i) => i.message).join('; '));
        throw e;
      }
      await checkDisk(ctx, true);
      // Upstream writes GGUF only as part of a fuse: fuse again (with --dequantize, as GGUF needs) into a fresh folder.
      const dir = await freshFolder(ctx, 'exports', `${ctx.job.id}-gguf`);
      const r = await ctx.tool(
        fuseArgv({
          python: py,
          model: ctx.model.dir,
          adapterPath: ctx.run.adapterPath,
          savePath: dir,
          dequantize: true,
          exportGguf: true,
        }),
        'mlx_lm fuse --export-gguf',
      );
      const saved =
        /^Converted GGUF model saved as: (.+)$/m.exec(r.stdout)?.[1] ?? path.join(dir, 'ggml-model-f16.gguf');
      if (!fs.existsSync(saved))
        throw new JobFailure(`mlx_lm fuse reported no GGUF file (expected ${saved})`);
      // Its weights are those of the verified fuse when the safetensors are byte for byte the same.
      const verified = await sameWeights(dir, fused);
      return {
        result: { format: 'gguf', path: saved, from_fuse: ctx.job.parentJobId, verified },
        artifacts: [{ kind: 'gguf', path: saved, verified }],
      };
    }
    case 'mlx': {
      const dir = await freshFolder(ctx, 'exports', `${ctx.job.id}-mlx-q${o.bits}`);
      const r = await ctx.tool(
        convertArgv({ python: py, model: fused, mlxPath: dir, bits: o.bits, groupSize: o.group_size }),
        'mlx_lm convert -q',
      );
      const bpw = /Quantized model with ([\d.]+) bits per weight/.exec(r.stdout)?.[1];
      // Quantizing changes the answers: the quantized model is not the verified one.
      return {
        result: {
          format: 'mlx',
          path: dir,
          bits: o.bits,
          group_size: o.group_size,
          bits_per_weight: bpw ? Number(bpw) : null,
          from_fuse: ctx.job.parentJobId,
          verified: null,
        },
        artifacts: [{ kind: 'quantized_model', path: dir, verified: null }],
      };
    }
    case 'lmstudio': {
      const target = path.join(ctx.config.lmstudioModelsDir, 'mlxq', modelName(ctx, o));
      if (fs.existsSync(target))
        throw new JobFailure(`${target} already exists in LM Studio's models folder; choose another "name"`);
      await fs.promises.mkdir(path.dirname(target), { recursive: true });
      await fs.promises.cp(fused, target, { recursive: true, errorOnExist: true });
      return {
        result: { format: 'lmstudio', path: target, from_fuse: ctx.job.parentJobId, verified: true },
        artifacts: [{ kind: 'lmstudio', path: target, verified: true }],
      };
    }
    case 'ollama': {
      const config = JSON.parse(
        await fs.promises.readFile(path.join(fused, 'config.json'), 'utf8'),
      ) as Record<string, unknown>;
      if (config.quantization)
        throw new JobFailure(
          'Ollama cannot import MLX quantized (packed) weights; fuse with "dequantize": true first',
        );
      const dir = await freshFolder(ctx, 'exports', `${ctx.job.id}-ollama`);
      await fs.promises.mkdir(dir);
      const modelfile = path.join(dir, 'Modelfile');
      await fs.promises.writeFile(
        modelfile,
        `# Written by mlx-train-queue for run ${ctx.run.id}: the verified fused model (safetensors).\nFROM ${path.resolve(fused)}\n`,
      );
      const name = modelName(ctx, o).toLowerCase();
      return {
        result: {
          format: 'ollama',
          path: modelfile,
          model: path.resolve(fused),
          command: `ollama create ${name} -f ${modelfile}`,
          from_fuse: ctx.job.parentJobId,
          verified: true,
        },
        artifacts: [{ kind: 'ollama', path: modelfile, verified: true }],
      };
    }
  }
}
