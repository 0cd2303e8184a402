// Bounded shutdown on SIGTERM or SIGINT: the steps run in order, each given the time left, and the process exits
// within the bound even when Redis or SQLite hang. Past the bound, or on a second signal, `force` runs (it stops
// the trainers' process groups) and the process exits at once.
import type { Logger } from 'pino';

export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown>;
}

export interface ShutdownPlan {
  /** The whole shutdown, all steps included (SHUTDOWN_TIMEOUT_S; plus SHUTDOWN_DEADLINE_S in wait mode). */
  timeoutMs: number;
  steps: readonly ShutdownStep[];
  /** The last act of a forced exit; synchronous (e.g. SIGKILL to every trainer's process group). */
  force: () => void;
}

/** Resolves to 'timeout' when `p` has not settled within `ms`; its rejection is rethrown. */
export async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timeout'>(
    (resolve) => (timer = setTimeout(() => resolve('timeout'), Math.max(0, ms))),
  );
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the steps; resolves when they are all done (or timed out: each is logged). Never rejects. */
export async function runSteps(
  logger: Logger,
  steps: readonly ShutdownStep[],
  deadline: number,
): Promise<boolean> {
  let clean = true;
  for (const step of steps) {
    const started = Date.now();
    try {
      const r = await withDeadline(step.run(), deadline - started);
      if (r === 'timeout') {
        logger.error(
          { step: step.name, ms: Date.now() - started },
          'shutdown step did not finish in time; going on',
        );
        clean = false;
      }
    } catch (err) {
      logger.error({ err, step: step.name }, 'shutdown step failed; going on');
      clean = false;
    }
  }
  return clean;
}

/**
 * Time kept back from the bound for a forced exit itself (SIGKILL to the trainers, process teardown, and a timer that
 * fires late on a loaded machine or behind a synchronous SQLite wait). 1.5 s was once 80 ms short, in 1 of 20 stops
 * with SQLite write-locked on 2 cores at load 15.
 */
const EXIT_MARGIN_MS = 2500;

export function onShutdown(
  logger: Logger,
  plan: () => ShutdownPlan,
  exit: (code: number) => never = (code) => process.exit(code),
): void {
  let stopping = false;
  let current: ShutdownPlan | undefined;
  const forceExit = (why: string) => {
    logger.warn(why);
    try {
      current?.force();
    } catch (err) {
      logger.error({ err }, 'stopping the trainers failed');
    }
    exit(1);
  };
  const handler = (signal: NodeJS.Signals) => {
    if (stopping)
      forceExit(
        `second signal (${signal}): exiting now; the trainers are stopped, their runs resume at the next start`,
      );
    stopping = true;
    current = plan();
    // The steps get the bound less a margin, so that killing the trainers and exiting fit inside the bound too.
    const budget = Math.max(current.timeoutMs - EXIT_MARGIN_MS, current.timeoutMs * 0.8);
    logger.info({ signal, timeoutMs: current.timeoutMs }, 'shutting down');
    // Not unref'd: this timer is what bounds the exit.
    const bound = setTimeout(
      () => forceExit(`shutdown took longer than ${Math.round(budget)} ms: exiting now`),
      budget,
    );
    void runSteps(logger, current.steps, Date.now() + budget).then((clean) => {
      clearTimeout(bound);
      exit(clean ? 0 : 1);
    });
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/** How long a shutdown of a process with a worker may take: the training's deadline in wait mode, then the bound. */
export function shutdownTimeoutMs(config: {
  shutdownTimeoutMs: number;
  shutdownMode: 'wait' | 'requeue';
  shutdownDeadlineMs: number;
}): number {
  return config.shutdownTimeoutMs + (config.shutdownMode === 'wait' ? config.shutdownDeadlineMs : 0);
}
