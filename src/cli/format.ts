// Text formatting for the terminal: API errors with their fields and lines, shell-quoted argv, durations, tables.
import type { ApiErrorBody } from './api-client.js';

type Issue = NonNullable<ApiErrorBody['issues']>[number];

/** "grpo.yaml:7 learning_rat: unknown option" or "iters: exactly one of ..." */
export function formatIssue(issue: Issue, file?: string): string {
  const where =
    issue.line !== undefined && issue.line !== null
      ? `${file ?? 'line'}${file ? ':' : ' '}${issue.line}`
      : '';
  const field = issue.path ? `${issue.path}: ` : '';
  return `${where ? `${where} ` : ''}${field}${issue.message}`;
}

export function formatWarning(issue: Issue, file?: string): string {
  return `warning: ${formatIssue(issue, file)}`;
}

export function formatApiError(
  status: number,
  body: ApiErrorBody,
  file?: string,
): { message: string; details: string[] } {
  const details = [
    ...(body.issues ?? []).map((i) => formatIssue(i, file)),
    ...(body.problems ?? []).map((p) => `${p.file}${p.line ? `:${p.line}` : ''} ${p.message}`),
  ];
  const kind = body.error ?? `HTTP ${status}`;
  const headline =
    kind === 'invalid_request'
      ? 'the request is invalid'
      : kind === 'invalid_dataset'
        ? 'the dataset cannot train'
        : kind.replace(/_/g, ' ');
  // With details listed, the long message repeats them; print it only when it is all there is.
  const message =
    details.length > 0
      ? `${headline} (HTTP ${status}):`
      : `${headline} (HTTP ${status}): ${body.message ?? ''}`.trim();
  return { message, details };
}

const SAFE = /^[\w@%+=:,./-]+$/;

export function shellQuote(arg: string): string {
  return arg !== '' && SAFE.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatArgv(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** 75 -> "1:15", 3725 -> "1:02:05" */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${m}:${pad(sec)}`;
}

/** Left-aligned columns separated by two spaces. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
