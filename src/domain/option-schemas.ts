// The zod schema of one option's value, from its catalogue entry (kind, range, choices), plus the reward lists and
// the shapes of the YAML-only objects.
import { z } from 'zod';

import type { OptionSpec } from './option-spec.js';
import { safeString } from './safe-string.js';

const commaList = (s: string) =>
  s
    .replace(/^\s*\[|\]\s*$/g, '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0);

const rewardFunctions = z
  .union([z.array(safeString).min(1, 'needs at least one function'), safeString.transform(commaList)])
  .pipe(
    z
      .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be Python identifiers'))
      .min(1, 'needs at least one function'),
  );

const rewardWeights = z
  .union([
    z.array(z.number()),
    z
      .string()
      .transform(commaList)
      .pipe(z.array(z.string().regex(/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i, 'must be numbers')))
      .transform((a) => a.map(Number)),
  ])
  .pipe(z.array(z.number()).min(1, 'needs at least one weight'));

const objectOptions: Record<string, z.ZodType> = {
  lora_parameters: z
    .strictObject({
      rank: z.number().int().min(1).max(1024),
      dropout: z.number().min(0).lt(1),
      scale: z.number().gt(0),
    })
    .partial(),
  lr_schedule: z.strictObject({
    name: z.enum(['cosine_decay', 'linear_schedule', 'exponential_decay', 'step_decay', 'join_schedules']),
    arguments: z.array(z.unknown()),
    warmup: z.number().int().min(0).optional(),
    warmup_init: z.number().min(0).optional(),
  }),
  optimizer_config: z.partialRecord(z.enum(['adam', 'adamw', 'muon']), z.record(z.string(), z.unknown())),
  judge_config: z.strictObject({ system_prompt: z.string().max(100_000) }).partial(),
};

function numberSchema(o: OptionSpec): z.ZodType {
  let s = o.kind === 'int' ? z.number().int('must be an integer') : z.number();
  if (o.min !== undefined) s = s.min(o.min);
  if (o.gt !== undefined) s = s.gt(o.gt);
  if (o.max !== undefined) s = s.max(o.max);
  if (o.lt !== undefined) s = s.lt(o.lt);
  return s;
}

export function optionSchema(o: OptionSpec): z.ZodType {
  if (o.key === 'reward_functions') return rewardFunctions;
  if (o.key === 'reward_weights') return rewardWeights;
  switch (o.kind) {
    case 'int':
    case 'float':
      return numberSchema(o);
    case 'bool':
      return z.boolean();
    case 'choice':
      return z.enum(o.choices as [string, ...string[]]);
    case 'path':
      return safeString;
    case 'string':
      return safeString.max(512);
    case 'object':
      return objectOptions[o.key] ?? z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a key name');
  }
}
