// The value rules of each dataset format: whether a record's keys hold what upstream reads (each check returns null
// when fine, else one message naming the key).
import type { DatasetFormat, Keys } from './dataset-keys.js';

type Rec = Record<string, unknown>;

export const has = (r: Rec, key: string): boolean => Object.hasOwn(r, key);

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? 'empty list' : 'list';
  if (typeof v === 'string' && v === '') return 'empty string';
  return typeof v === 'object' ? 'object' : typeof v;
}

const isObject = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

function requireString(r: Rec, key: string, opts: { nonEmpty?: string } = {}): string | null {
  if (!has(r, key)) return `missing key "${key}"`;
  const v = r[key];
  if (typeof v !== 'string') return `"${key}" must be a string (got ${kind(v)})`;
  if (opts.nonEmpty !== undefined && v === '') return `"${key}" must not be empty (${opts.nonEmpty})`;
  return null;
}

function optionalString(r: Rec, key: string): string | null {
  return has(r, key) && typeof r[key] !== 'string' ? `"${key}" must be a string (got ${kind(r[key])})` : null;
}

/** A chat message: string role and content; content may be null/absent only next to tool_calls. */
function checkMessage(m: unknown, path: string): string | null {
  if (!isObject(m)) return `"${path}" must be a {role, content} object (got ${kind(m)})`;
  if (typeof m.role !== 'string') return `"${path}.role" must be a string (got ${kind(m.role)})`;
  const toolCall = has(m, 'tool_calls') && (m.content === undefined || m.content === null);
  if (typeof m.content !== 'string' && !toolCall) {
    return `"${path}.content" must be a string (got ${m.content === undefined ? 'no content key' : kind(m.content)})`;
  }
  return null;
}

function checkMessages(v: unknown, key: string): string | null {
  if (!Array.isArray(v) || v.length === 0) {
    return `"${key}" must be a non-empty list of {role, content} objects (got ${kind(v)})`;
  }
  for (let i = 0; i < v.length; i++) {
    const problem = checkMessage(v[i], `${key}[${i}]`);
    if (problem) return problem;
  }
  return null;
}

function requireMessages(r: Rec, key: string): string | null {
  return has(r, key) ? checkMessages(r[key], key) : `missing key "${key}"`;
}

/** ORPO chosen/rejected: a string, {messages: [...]}, {content: "..."}, or a list of messages. */
function checkOrpoAnswer(r: Rec, key: string): string | null {
  if (!has(r, key)) return `missing key "${key}"`;
  const v = r[key];
  if (typeof v === 'string') return null;
  if (Array.isArray(v)) return checkMessages(v, key);
  if (isObject(v)) {
    if (has(v, 'messages')) return checkMessages(v.messages, `${key}.messages`);
    if (typeof v.content === 'string') return null;
    return `"${key}" object must have "messages" (a list) or "content" (a string); upstream silently uses ""`;
  }
  return `"${key}" must be a string, a list of {role, content} objects, or an object with "messages" or "content" (got ${kind(v)})`;
}

function checkFtpo(r: Rec): string | null {
  const dropped = 'upstream drops the row silently';
  const problem =
    requireString(r, 'context_with_chat_template', { nonEmpty: dropped }) ??
    requireString(r, 'rejected_decoded', { nonEmpty: dropped });
  if (problem) return problem;
  if (!has(r, 'multi_chosen_decoded')) return 'missing key "multi_chosen_decoded"';
  const chosen = r.multi_chosen_decoded;
  if (!Array.isArray(chosen) || chosen.length === 0) {
    return `"multi_chosen_decoded" must be a non-empty list of strings (got ${kind(chosen)}); ${dropped}`;
  }
  const bad = chosen.findIndex((c) => typeof c !== 'string');
  return bad === -1
    ? null
    : `"multi_chosen_decoded" must be a list of strings (item ${bad} is ${kind(chosen[bad])})`;
}

function checkGrpo(r: Rec, k: Keys): string | null {
  const problem = requireString(r, k.prompt_feature);
  if (problem) return problem;
  if (!has(r, k.answer_feature)) return `missing key "${k.answer_feature}"`;
  const answer = r[k.answer_feature];
  // Upstream applies str(); numeric answers are common in maths sets and compare fine as text.
  if (typeof answer !== 'string' && !(typeof answer === 'number' && Number.isFinite(answer))) {
    return `"${k.answer_feature}" must be a string or a number (got ${kind(answer)})`;
  }
  return optionalString(r, k.system_feature);
}

function checkOrpo(r: Rec, k: Keys): string | null {
  const prompt = has(r, k.prompt_feature)
    ? optionalString(r, k.prompt_feature)
    : optionalString(r, 'question');
  const problem =
    prompt ??
    checkOrpoAnswer(r, k.chosen_feature) ??
    checkOrpoAnswer(r, k.rejected_feature) ??
    optionalString(r, k.system_feature);
  if (problem) return problem;
  const score = r[k.preference_score_feature];
  if (has(r, k.preference_score_feature) && !(typeof score === 'number' && Number.isFinite(score))) {
    return `"${k.preference_score_feature}" must be a number (got ${kind(score)})`;
  }
  return null;
}

function checkPrompt(r: Rec, k: Keys): string | null {
  const key = k.prompt_feature;
  if (!has(r, key)) return `missing key "${key}"`;
  const v = r[key];
  if (typeof v === 'string') return null;
  if (Array.isArray(v)) return checkMessages(v, key);
  return `"${key}" must be a string or a non-empty list of {role, content} objects (got ${kind(v)})`;
}

function checkChat(r: Rec, k: Keys): string | null {
  const problem = requireMessages(r, k.chat_feature);
  if (problem) return problem;
  const tools = r.tools;
  const toolsOk = tools === undefined || tools === null || (Array.isArray(tools) && tools.every(isObject));
  return toolsOk ? null : `"tools" must be a list of objects (got ${kind(tools)})`;
}

export function checkByFormat(format: string, r: Rec, k: Keys): string | null {
  switch (format as DatasetFormat) {
    case 'sft:completions':
      return requireString(r, k.prompt_feature) ?? requireString(r, k.completion_feature);
    case 'sft:chat':
      return checkChat(r, k);
    case 'sft:text':
      return requireString(r, k.text_feature);
    case 'preference':
      return (
        requireString(r, k.prompt_feature) ??
        requireString(r, k.chosen_feature) ??
        requireString(r, k.rejected_feature) ??
        optionalString(r, k.system_feature)
      );
    case 'orpo':
      return checkOrpo(r, k);
    case 'grpo':
      return checkGrpo(r, k);
    case 'prompt':
      return checkPrompt(r, k);
    case 'ftpo':
      return checkFtpo(r);
    default:
      return `unknown dataset format "${format}"`;
  }
}
