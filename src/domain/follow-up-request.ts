// The follow-up job request `{kind, ...options}`: one strict zod schema per kind, parsed into typed options.
import { z } from 'zod';

import { RequestValidationError } from './errors.js';
import { safeString } from './safe-string.js';

/** A prompt goes to `mlx_lm generate --prompt=<p>`; "-" would read stdin upstream. */
const prompt = z
  .string()
  .min(1, 'must not be empty')
  .max(8000, 'is too long')
  .refine((s) => s !== '-', 'a prompt of "-" reads standard input upstream')
  .refine((s) => !s.includes('\0'), 'must not contain NUL');

const prompts = z.array(prompt).min(1, 'needs 1 to 50 prompts').max(50, 'needs 1 to 50 prompts');
const maxTokens = z.number().int().min(1).max(8192);

export const EVALUATE_OPTIONS = z.strictObject({
  kind: z.literal('evaluate'),
  /** A dataset folder with test.jsonl; default: the run's own data. */
  data: safeString.optional(),
  /** -1 scores the whole test split. */
  test_batches: z
    .number()
    .int()
    .min(-1)
    .refine((n) => n !== 0, 'must be -1 (all) or at least 1')
    .default(-1),
  /** 1 scores every row (upstream drops a last partial batch). */
  batch_size: z.number().int().min(1).max(1024).default(1),
});

export const SAMPLES_OPTIONS = z.strictObject({
  kind: z.literal('samples'),
  prompts: prompts.optional(),
  /** With no prompts: this many taken from the run's split. */
  count: z.number().int().min(1).max(50).default(5),
  split: z.enum(['valid', 'test']).default('valid'),
  max_tokens: maxTokens.default(256),
  system_prompt: prompt.optional(),
});

const VERIFY = z.strictObject({
  prompts: prompts.optional(),
  count: z.number().int().min(1).max(50).default(3),
  max_tokens: maxTokens.default(64),
});

export const FUSE_OPTIONS = z.strictObject({
  kind: z.literal('fuse'),
  /** "auto": dequantize when the base is quantized (fusing into a quantized base loses the adapter). */
  dequantize: z.union([z.literal('auto'), z.boolean()]).default('auto'),
  /** false records the fuse as unverified. */
  verify: z.union([z.literal(false), VERIFY]).default({ count: 3, max_tokens: 64 }),
});

export const EXPORT_FORMATS = ['gguf', 'mlx', 'lmstudio', 'ollama'] as const;

export const EXPORT_OPTIONS = z.strictObject({
  kind: z.literal('export'),
  format: z.enum(EXPORT_FORMATS),
  /** mlx: quantization of `mlx_lm convert -q`. */
  bits: z.union([z.literal(2), z.literal(3), z.literal(4), z.literal(6), z.literal(8)]).default(4),
  group_size: z.union([z.literal(32), z.literal(64), z.literal(128)]).default(64),
  /** lmstudio folder name / ollama model name; default from the run. */
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
      'letters, digits, ".", "_" and "-" (at most 100), not beginning with a symbol',
    )
    .optional(),
});

export const FOLLOW_UP_REQUEST = z.discriminatedUnion(
  'kind',
  [EVALUATE_OPTIONS, SAMPLES_OPTIONS, FUSE_OPTIONS, EXPORT_OPTIONS],
  {
    error: () => 'must be one of evaluate, samples, fuse, export',
  },
);

export type EvaluateOptions = z.infer<typeof EVALUATE_OPTIONS>;
export type SamplesOptions = z.infer<typeof SAMPLES_OPTIONS>;
export type FuseOptions = z.infer<typeof FUSE_OPTIONS>;
export type ExportOptions = z.infer<typeof EXPORT_OPTIONS>;
export type FollowUpRequest = z.infer<typeof FOLLOW_UP_REQUEST>;

/** Parses one request; issues name their field under `prefix` (e.g. "after.0.prompts"). */
export function parseFollowUpRequest(body: unknown, prefix = ''): FollowUpRequest {
  const parsed = FOLLOW_UP_REQUEST.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
    return { path: path || prefix || 'kind', message: i.message };
  });
  throw new RequestValidationError(issues);
}

/** A list of follow-ups (`after`, `best_after`); at most 10. */
export function parseFollowUpList(body: unknown, field: string): FollowUpRequest[] {
  if (!Array.isArray(body))
    throw new RequestValidationError([{ path: field, message: 'must be an array of {kind, ...options}' }]);
  if (body.length > 10)
    throw new RequestValidationError([{ path: field, message: 'at most 10 follow-up jobs' }]);
  return body.map((b, i) => parseFollowUpRequest(b, `${field}.${i}`));
}
