// A remote worker's run folders (DATA_DIR/runs/<id>: the trainer's output, checkpoints and adapters), which hold
// nothing the control plane lacks once the run is final: every checkpoint and the adapter were uploaded, and the
// attempt's finish was answered only after its reports and uploads. Pruning keeps the newest WORKER_KEEP_RUNS
// folders (by last change) and removes older ones whose run the control plane says is final, or no longer has. A run
// this worker trains now, one that may still resume here, and one the control plane cannot be asked about stay.
import fs from 'node:fs/promises';
import path from 'node:path';

import type { Logger } from 'pino';

import { isFinal, type RunStatus } from '../../domain/run-status.js';

export interface PruneOptions {
  runsDir: string;
  keep: number;
  /** Runs this worker is working on now (never pruned). */
  active: ReadonlyMap<string, unknown>;
  /** The run's status at the control plane; null when it has no such run; throws when it cannot be asked. */
  statusOf(runId: string): Promise<RunStatus | null>;
  logger: Logger;
}

/** Removes the folders past the newest `keep` whose run is over; returns the run ids removed. */
export async function pruneRunFolders(o: PruneOptions): Promise<string[]> {
  const names = await fs.readdir(o.runsDir).catch(() => [] as string[]);
  const folders = (
    await Promise.all(
      names.map(async (name) => {
        const st = await fs.stat(path.join(o.runsDir, name)).catch(() => undefined);
        return st?.isDirectory() ? { name, changed: st.mtimeMs } : null;
      }),
    )
  )
    .filter((f) => f !== null)
    .sort((a, b) => b.changed - a.changed);
  const removed: string[] = [];
  for (const { name } of folders.slice(o.keep)) {
    if (o.active.has(name)) continue;
    let status: RunStatus | null;
    try {
      status = await o.statusOf(name);
    } catch (e) {
      o.logger.debug({ runId: name, err: (e as Error).message }, 'run folder kept: its status is unknown');
      continue;
    }
    if (status !== null && !isFinal(status)) continue;
    await fs.rm(path.join(o.runsDir, name), { recursive: true, force: true });
    removed.push(name);
  }
  if (removed.length > 0)
    o.logger.info({ removed, keep: o.keep }, 'removed the folders of older final runs (WORKER_KEEP_RUNS)');
  return removed;
}

/** Runs `prune` now and whenever asked again, one pass at a time; a request during a pass runs one more after it. */
export function serialPrune(prune: () => Promise<unknown>, logger: Logger): () => void {
  let running: Promise<void> | null = null;
  let again = false;
  const run = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = prune()
      .then(
        () => undefined,
        (err: unknown) => logger.warn({ err }, 'pruning run folders failed'),
      )
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          run();
        }
      });
  };
  return run;
}
