// The raw baseline worker: a BullMQ Worker (concurrency 1) whose processor spawns the job's argv with
// child_process.spawn and waits for it to exit. Nothing of the project in it. Started with fork(); tells the
// parent over IPC when each processor starts (monotonic ms, comparable across processes on Linux) and ends.
import { spawn } from 'node:child_process';

import { type Job, Worker } from 'bullmq';

interface SpawnJob {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

const worker = new Worker(
  'runs',
  async (job: Job<SpawnJob>) => {
    process.send?.({ type: 'started', id: job.id, at: nowMs() });
    const [file, ...args] = job.data.argv;
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(file!, args, {
        cwd: job.data.cwd,
        env: { ...process.env, ...job.data.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.resume();
      child.stderr.resume();
      child.once('error', reject);
      child.once('close', resolve);
    });
    process.send?.({ type: 'done', id: job.id, code });
  },
  { connection: { url: process.env.REDIS_URL }, prefix: process.env.RAW_PREFIX, concurrency: 1 },
);
await worker.waitUntilReady();
process.send?.({ type: 'ready' });

process.on('message', (m: unknown) => {
  if (m !== 'close') return;
  void worker.close().then(() => process.exit(0));
});
