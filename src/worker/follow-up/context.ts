// What every follow-up kind gets to work with: the job, its run and base model, a tool runner, and typed failures.
import type { ArtifactInput } from '../../artifacts/record-artifacts.js';
import type { JobStartedAnswer } from '../../contract/job-protocol.js';
import { generateArgv } from '../../domain/follow-up-commands.js';
import type { FollowUpJob } from '../../domain/follow-up-job.js';
import { type Generation, parseGenerateOutput } from '../../domain/follow-up-output.js';
import type { Run } from '../../domain/run.js';
import type { ModelFacts } from '../../inputs/model-facts.js';
import type { Config } from '../../shared/config.js';
import { runTool, type ToolContext, toolFailure, type ToolRun } from './run-tool.js';

/** A job that cannot succeed: its message is the job's error; `result` is kept (e.g. verified: false). */
export class JobFailure extends Error {
  constructor(
    message: string,
    readonly result: Record<string, unknown> | null = null,
  ) {
    super(message);
    this.name = 'JobFailure';
  }
}

export interface KindOutcome {
  result: Record<string, unknown>;
  artifacts: Omit<ArtifactInput, 'runId' | 'jobId'>[];
}

/** The job as this worker runs it: its folder is on this worker's disk. */
export type JobOnWorker = Pick<
  FollowUpJob,
  'id' | 'runId' | 'kind' | 'options' | 'attempt' | 'parentJobId' | 'jobDir'
>;

/** The job's run as this worker sees it: its folder and adapter on this worker's disk (fetched by hash). */
export type RunOnWorker = Pick<
  Run,
  'id' | 'name' | 'method' | 'model' | 'data' | 'request' | 'argv' | 'runDir' | 'adapterPath'
>;

/** The job before this one in its chain (an export's fuse), with its model folder on this worker. */
export type ParentOnWorker = Omit<NonNullable<JobStartedAnswer['parent']>, 'output'> & {
  fusedDir: string | null;
};

export interface FollowUpContext {
  job: JobOnWorker;
  run: RunOnWorker;
  parent: ParentOnWorker | null;
  config: Config;
  /** The run's base model, resolved to a local folder. */
  model: ModelFacts & { dir: string };
  resolveData: (data: string) => Promise<string>;
  /** Runs a tool; a failure (exit != 0, signal, stop) throws JobFailure naming `what`. */
  tool(argv: string[], what: string): Promise<ToolRun>;
}

export function toolRunner(base: ToolContext) {
  return async (argv: string[], what: string): Promise<ToolRun> => {
    const r = await runTool(base, argv);
    if (base.signal.aborted) throw new JobCancelled();
    const failure = toolFailure(what, r);
    if (failure) throw new JobFailure(failure);
    return r;
  };
}

/** The job was cancelled while a tool ran. */
export class JobCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'JobCancelled';
  }
}

/** One greedy generation with `mlx_lm generate --temp 0`. */
export async function generate(
  ctx: FollowUpContext,
  model: string,
  adapterPath: string | undefined,
  prompt: string,
  maxTokens: number,
  systemPrompt?: string,
): Promise<Generation> {
  const argv = generateArgv({
    python: ctx.config.mlxPython,
    model,
    adapterPath,
    prompt,
    maxTokens,
    systemPrompt,
  });
  const r = await ctx.tool(argv, 'mlx_lm generate');
  const parsed = parseGenerateOutput(r.stdout);
  if (!parsed)
    throw new JobFailure(
      `mlx_lm generate printed no answer in the expected form (last lines: ${r.stdout.split('\n').slice(-4).join(' | ')})`,
    );
  return parsed;
}
