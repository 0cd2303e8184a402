// Runs one mlx_lm / mlx_lm_lora command of a follow-up job: output lines into the job log, stdout kept for parsing.
import { FOLLOW_UP_ENV } from '../../domain/follow-up-commands.js';
import { type ExecuteResult, executeTrainer } from '../execute.js';

export interface ToolRun extends ExecuteResult {
  stdout: string;
  /** The last stderr lines (tracebacks, the Metal abort line). */
  stderrTail: string[];
}

export interface ToolContext {
  /** The job's log (its JobReporter): whole lines. */
  log(text: string): void;
  env: Record<string, string>;
  signal: AbortSignal;
  killGraceMs: number;
  idleLimitMs: number;
  /** The job folder's tool.pid: a restarted worker stops a tool its dead predecessor left running. */
  pidFile?: string;
}

const OOM = /Insufficient Memory|kIOGPUCommandBufferCallbackErrorOutOfMemory|\[metal::malloc\]/;

export async function runTool(ctx: ToolContext, argv: string[], cwd?: string): Promise<ToolRun> {
  const log = { write: (text: string) => ctx.log(text) };
  log.write(`$ ${argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}\n`);
  const stdout: string[] = [];
  const stderrTail: string[] = [];
  const result = await executeTrainer({
    argv,
    env: { ...ctx.env, ...FOLLOW_UP_ENV },
    cwd,
    signal: ctx.signal,
    killGraceMs: ctx.killGraceMs,
    idleLimitMs: ctx.idleLimitMs,
    pidFile: ctx.pidFile,
    onProblem: (message) => log.write(`[mlxq] ${message}\n`),
    onLine: (stream, line) => {
      log.write(`${line}\n`);
      if (stream === 'stdout') stdout.push(line);
      else {
        stderrTail.push(line);
        if (stderrTail.length > 30) stderrTail.shift();
      }
    },
  });
  return { ...result, stdout: stdout.join('\n'), stderrTail };
}

/** Why a tool run failed, in the user's terms; null when it exited 0. */
export function toolFailure(what: string, r: ToolRun): string | null {
  if (r.stopReason) return `${what} was stopped (${r.stopReason})`;
  if (r.spawnError) return `${what} could not start: ${r.spawnError}`;
  if (r.exitCode === 0) return null;
  const tail = r.stderrTail
    .filter((l) => l.trim())
    .slice(-3)
    .join(' | ');
  if (r.signal === 'SIGABRT' && OOM.test(tail)) return `${what} ran out of GPU memory (Metal abort: ${tail})`;
  if (OOM.test(tail)) return `${what} ran out of GPU memory: ${tail}`;
  if (r.signal) return `${what} was killed by ${r.signal}${tail ? `: ${tail}` : ''}`;
  if (r.exitCode === 2) return `${what} rejected its arguments (exit 2): ${tail}`;
  return `${what} failed (exit ${r.exitCode})${tail ? `: ${tail}` : ''}`;
}
