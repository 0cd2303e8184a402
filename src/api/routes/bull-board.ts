// bull-board at /admin/queues: the runs queue and every placement queue read-only, each job linked to its run page,
// workers listed.
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyPluginAsync } from 'fastify';

import { describeRequirement } from '../../domain/placement.js';
import { runQueuesOf } from '../../shared/run-queues.js';
import type { AppDeps } from '../app.js';

export const BULL_BOARD_PATH = '/admin/queues';

const SHARED_DESCRIPTION =
  'Training runs, one at a time per worker. Each job id is <kind>:<run id>:<attempt>; open the run page for logs and charts.';

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
export function runsQueueAdapter(queue: Queue, description = SHARED_DESCRIPTION): BullMQAdapter {
  const adapter = new BullMQAdapter(queue, {
    readOnlyMode: true,
    description,
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

/** How often the board looks for placement queues made since it last looked (they appear as runs are placed). */
const PLACED_SYNC_MS = 1000;

export const bullBoardRoutes: FastifyPluginAsync<AppDeps> = async (app, deps) => {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(BULL_BOARD_PATH);
  const board = createBullBoard({
    queues: [runsQueueAdapter(deps.queue)],
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
  // A placed run waits in the queue of its requirement (src/shared/run-queues.ts), not in `runs`: the board shows
  // each such queue once it exists, with what its runs need.
  const shown = new Set<string>([deps.queue.name]);
  let syncedAt = 0;
  app.addHook('onRequest', async () => {
    if (Date.now() - syncedAt < PLACED_SYNC_MS) return;
    syncedAt = Date.now();
    const placed = await runQueuesOf(deps.queue, deps.redis, deps.config.queuePrefix)
      .placed()
      .catch(() => []);
    for (const { queue, requirement } of placed) {
      if (shown.has(queue.name)) continue;
      shown.add(queue.name);
      board.addQueue(
        runsQueueAdapter(
          queue,
          `Runs placed on ${requirement ? describeRequirement(requirement) : queue.name}: only workers that meet it take them. ${SHARED_DESCRIPTION}`,
        ),
      );
    }
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: BULL_BOARD_PATH });
};
