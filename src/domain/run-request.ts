// The run request: one strict zod schema per method, cross-field rules, and parseRunRequest -> {request, warnings}.
import { z } from 'zod';

import { type FieldIssue, RequestValidationError } from './errors.js';
import { type FollowUpRequest, parseFollowUpList } from './follow-up-request.js';
import { type Method, METHOD_INFO, METHODS, type TrainMode } from './methods.js';
import { optionSchema } from './option-schemas.js';
import { type Placement, placementSchema } from './placement.js';
import { keyIssues } from './request-keys.js';
import { appliesTo, BUILTIN_REWARD_FUNCTIONS, RUN_OPTIONS } from './run-options.js';

export { SERVICE_FIELDS } from './request-keys.js';

/** A validated, normalised run request: mlx-lm-lora's own keys plus the service fields. */
export interface RunRequest {
  method: Method;
  model: string;
  data: string;
  iters?: number;
  epochs?: number;
  name?: string;
  tags: string[];
  priority: number;
  fuse: boolean;
  /** After an out-of-memory failure: fail (the default), or retry with smaller settings (at most 3 times). */
  on_oom?: 'fail' | 'reduce';
  /** Follow-up jobs queued when the run succeeds (see follow-up-request.ts). */
  after?: FollowUpRequest[];
  /** Which workers may train it (see placement.ts). */
  placement?: Placement;
  reward_functions?: string[];
  reward_weights?: number[];
  [option: string]: unknown;
}

export interface ParsedRunRequest {
  request: RunRequest;
  warnings: FieldIssue[];
}

const serviceShape = {
  name: z.string().trim().min(1).max(200).optional(),
  tags: z
    .array(
      z
        .string()
        .trim()
        .min(1)
        .max(64)
        .regex(/^[\w.:/=+-]+$/, 'letters, digits and . _ : / = + - only'),
    )
    .max(32)
    .default([]),
  priority: z.number().int().min(0).max(100).default(0),
  fuse: z.boolean().default(false),
  on_oom: z.enum(['fail', 'reduce']).optional(),
  // Each entry is parsed by parseFollowUpList below, so its issues name after.<i>.<field>.
  after: z.array(z.unknown()).optional(),
  placement: placementSchema.optional(),
};

function buildSchema(method: Method) {
  const mode = METHOD_INFO[method].trainMode;
  const shape: Record<string, z.ZodType> = { method: z.literal(method), ...serviceShape };
  for (const o of RUN_OPTIONS) {
    if (!appliesTo(o, mode)) continue;
    const base = optionSchema(o);
    shape[o.key] = o.key === 'model' || o.key === 'data' ? base : base.optional();
  }
  return z.strictObject(shape).superRefine((req, ctx) => crossFieldRules(method, req, ctx));
}

type Ctx = z.RefinementCtx;
const issue = (ctx: Ctx, path: string, message: string) =>
  ctx.addIssue({ code: 'custom', path: [path], message });

function crossFieldRules(method: Method, r: Record<string, unknown>, ctx: Ctx): void {
  const info = METHOD_INFO[method];
  if ((r.iters === undefined) === (r.epochs === undefined)) {
    issue(
      ctx,
      r.iters === undefined ? 'iters' : 'epochs',
      'exactly one of iters or epochs is required (upstream crashes without either)',
    );
  }
  for (const [key, value] of Object.entries(info.fixed ?? {})) {
    if (r[key] !== undefined && r[key] !== value)
      issue(
        ctx,
        key,
        `method ${method} means ${key}=${value}; use method ${info.trainMode} for other values`,
      );
  }
  for (const key of info.requires) {
    if (r[key] === undefined) issue(ctx, key, `is required for method ${method}`);
  }
  const variantIssue = info.check?.(r);
  if (variantIssue) issue(ctx, variantIssue.path, variantIssue.message);
  if (info.mode.judge && typeof r.judge === 'string' && r.judge.trim().toLowerCase() === 'human') {
    issue(
      ctx,
      'judge',
      '"human" cannot work from the CLI upstream (it is loaded as a model name); give a judge model',
    );
  }
  if (r.test === true && info.mode.test !== 'works') {
    issue(ctx, 'test', `--test crashes for train mode ${info.trainMode} in mlx-lm-lora 3.1.2; leave it off`);
  }
  if (
    ['load_in_4bits', 'load_in_6bits', 'load_in_8bits', 'load_in_mxfp4'].filter((k) => r[k] === true).length >
    1
  ) {
    issue(
      ctx,
      'load_in_4bits',
      'choose at most one of load_in_4bits, load_in_6bits, load_in_8bits, load_in_mxfp4',
    );
  }
  if (r.lm_studio_name !== undefined && r.fuse !== true) {
    issue(ctx, 'lm_studio_name', 'needs fuse: true (only a fused model is sent to LM Studio)');
  }
  rewardRules(r, ctx);
}

function rewardRules(r: Record<string, unknown>, ctx: Ctx): void {
  const fns = r.reward_functions as string[] | undefined;
  if (fns) {
    const seen = new Set<string>();
    for (const f of fns) {
      if (seen.has(f)) issue(ctx, 'reward_functions', `lists ${f} twice`);
      seen.add(f);
      const builtin = (BUILTIN_REWARD_FUNCTIONS as readonly string[]).includes(f);
      if (!builtin && r.reward_functions_file === undefined) {
        issue(
          ctx,
          'reward_functions',
          `unknown reward function "${f}" (built-in: ${BUILTIN_REWARD_FUNCTIONS.join(', ')}; others need reward_functions_file). Upstream would skip training and still exit 0`,
        );
      }
    }
  }
  const weights = r.reward_weights as number[] | undefined;
  const count = fns?.length ?? BUILTIN_REWARD_FUNCTIONS.length;
  if (weights && weights.length !== count) {
    issue(
      ctx,
      'reward_weights',
      `has ${weights.length} weight(s) for ${count} reward function(s)${fns ? '' : ' (the five built-ins by default)'}`,
    );
  }
}

export const RUN_REQUEST_SCHEMAS = Object.fromEntries(METHODS.map((m) => [m, buildSchema(m)])) as Record<
  Method,
  ReturnType<typeof buildSchema>
>;

export function zodIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

function recommendedRangeWarnings(mode: TrainMode, r: Record<string, unknown>): FieldIssue[] {
  const warnings: FieldIssue[] = [];
  for (const o of RUN_OPTIONS) {
    const v = r[o.key];
    if (!o.recommended || typeof v !== 'number' || !appliesTo(o, mode)) continue;
    if (v < o.recommended.min || v > o.recommended.max) {
      warnings.push({
        path: o.key,
        message: `${v} is outside the recommended range ${o.recommended.min} to ${o.recommended.max}`,
      });
    }
  }
  if (r.train_type === 'full' && r.lora_parameters !== undefined) {
    warnings.push({ path: 'lora_parameters', message: 'ignored with train_type full' });
  }
  return warnings;
}

/** Validates an untrusted request body; throws RequestValidationError naming every bad field. */
export function parseRunRequest(input: unknown): ParsedRunRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new RequestValidationError([{ path: '', message: 'the request must be a JSON object' }]);
  }
  const body = input as Record<string, unknown>;
  const method = body.method;
  if (typeof method !== 'string' || !(METHODS as readonly string[]).includes(method)) {
    const got = method === undefined ? 'is required' : `"${String(method)}" is not a method`;
    throw new RequestValidationError([{ path: 'method', message: `${got}; one of ${METHODS.join(', ')}` }]);
  }
  const m = method as Method;
  const mode = METHOD_INFO[m].trainMode;
  const badKeys = keyIssues(m, mode, body);
  const known = Object.fromEntries(Object.entries(body).filter(([k]) => !badKeys.some((i) => i.path === k)));
  const parsed = RUN_REQUEST_SCHEMAS[m].safeParse(known);
  const issues = [...badKeys, ...(parsed.success ? [] : zodIssues(parsed.error))];
  if (issues.length > 0 || !parsed.success) throw new RequestValidationError(issues);
  const request = parsed.data as RunRequest;
  if (request.after !== undefined) request.after = parseFollowUpList(request.after, 'after');
  return { request, warnings: recommendedRangeWarnings(mode, request) };
}
