// bull-board at /admin/queues: the runs queue read-only, each job linked to its run page, workers listed.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyPluginAsync } from 'fastify';

import type { AppDeps } from '../app.js';

export const BULL_BOARD_PATH = '/admin/queues';

/** The run a job carries: the job id is the run id, and the payload repeats it. */
function runIdOf(job: { id?: string | number | null; data?: unknown }): string | null {
  const data = job.data as { runId?: unknown } | undefined;
  if (typeof data?.runId === 'string') return data.runId;
  return job.id == null ? null : String(job.id);
}

/**
 * Read-only on purpose: the runs table in SQLite is the record, and a job removed or retried from the
 * board would leave a run queued or failed forever. Cancel and resubmit through the API or the run page.
 */
export function runsQueueAdapter(deps: Pick<AppDeps, 'queue'>): BullMQAdapter {
  const adapter = new BullMQAdapter(deps.queue, {
    readOnlyMode: true,
    description:
      'Training runs, one at a time per worker. Each job id is <kind>:<run id>:<attempt>; open the run page for logs and charts.',
    externalJobUrl: (job) => {
      const runId = runIdOf(job);
      return { href: `/ui/runs/${encodeURIComponent(runId ?? '')}`, displayText: 'Run page' };
    },
  });
  adapter.setFormatter('name', (job: { name?: string; id?: string | number | null; data?: unknown }) =>
    `${job.name ?? 'train'} ${runIdOf(job) ?? ''}`.trim(),
  );
  return adapter;
}

export const bullBoardRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  createBullBoard({
    queues: [runsQueueAdapter(deps)],
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'mlx-train-queue',
        miscLinks: [
          { text: 'Runs dashboard', url: '/ui' },
          { text: 'Submit a run', url: '/ui/submit' },
        ],
      },
    },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
};
