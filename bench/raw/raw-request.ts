// The raw baseline's request schema: a strict zod object for the fields the benchmark's request has.
import { z } from 'zod';

export const RawRequest = z
  .object({
    method: z.enum(['sft', 'dpo', 'cpo', 'orpo', 'grpo']),
    name: z.string().max(200).optional(),
    model: z.string().min(1).max(4096),
    data: z.string().min(1).max(4096),
    iters: z.number().int().min(1),
    batch_size: z.number().int().min(1),
    learning_rate: z.number().positive(),
    steps_per_report: z.number().int().min(1),
    save_every: z.number().int().min(1),
    lora_parameters: z.object({ rank: z.number().int().min(1), scale: z.number().positive() }).strict(),
    tags: z.array(z.string().max(64)).max(20),
  })
  .strict();
