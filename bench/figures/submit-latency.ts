// Figure: submit -> trainer process started, on an idle queue. The project: POST /v1/runs on the API process,
// the worker process picks the job up, records the attempt and spawns the stand-in trainer. The baseline:
// queue.add of the same argv to a raw BullMQ worker that child_process.spawn()s it. Both trainers are the same
// stand-in command with the same interpreter; its MLX_STANDIN_PID_FILE marks the start. Samples alternate.
import { Queue } from 'bullmq';

import { TRAINER_ENV } from '../../src/domain/build-command.js';
import { type BenchContext, prefix, subdir } from '../lib/context.js';
import { type Figure, PercentileSeries } from '../lib/figure.js';
import { HttpClient } from '../lib/http-client.js';
import { nextMessage } from '../lib/processes.js';
import { deployment, STAND_IN_PATH, startProjectApi, startProjectWorker } from '../lib/project.js';
import { closeRaw, startRawWorker } from '../lib/raw.js';
import { sftRequest } from '../lib/requests.js';
import { type RunView, waitFinal } from '../lib/run-view.js';
import { StartSignal } from '../lib/start-signal.js';
import { median, nowMs, sleep } from '../lib/stats.js';

const IDLE_MS = 20;

/** Where the project's time goes, in epoch ms (1 ms resolution): to the row, to the worker taking it, to the trainer. */
interface Split {
  toRow: number;
  toRunning: number;
  toTrainer: number;
}

export async function submitLatency(ctx: BenchContext): Promise<Figure[]> {
  const reps = ctx.quick ? 1 : 3;
  const perRep = ctx.quick ? 15 : 100;
  const warm = ctx.quick ? 2 : 5;
  const projectSignal = new StartSignal(subdir(ctx, 'start-project'));
  const rawSignal = new StartSignal(subdir(ctx, 'start-raw'));
  const d = deployment(ctx, 'latency');
  const rawPrefix = prefix('raw-latency');
  const [api, worker, rawWorker] = await Promise.all([
    startProjectApi(d),
    startProjectWorker(d, STAND_IN_PATH, { MLX_STANDIN_PID_FILE: projectSignal.file }),
    startRawWorker(ctx, subdir(ctx, 'raw-latency'), rawPrefix),
  ]);
  const rawQueue = new Queue('runs', { connection: { url: ctx.redisUrl }, prefix: rawPrefix });
  const client = new HttpClient(api.port);
  const poller = new HttpClient(api.port);
  try {
    const body = { ...sftRequest(d.dataset), iters: 2, steps_per_report: 1, save_every: 100 };
    let template: RunView | undefined;

    const projectSample = async () => {
      await sleep(IDLE_MS); // the worker is back in its blocking wait: the queue is idle
      const started = projectSignal.arm();
      const t0 = nowMs();
      const wall0 = Date.now();
      const created = await client.json<RunView>('POST', '/v1/runs', body);
      const answered = nowMs() - t0;
      const ms = (await started) - t0;
      const run = await waitFinal(poller, created.id);
      if (run.status !== 'succeeded') throw new Error(`run ${run.id} ${run.status}: ${run.error}`);
      template ??= run;
      const at = (status: string) => run.events.find((e) => e.toStatus === status)?.at ?? Number.NaN;
      const split: Split = {
        toRow: at('queued') - wall0,
        toRunning: at('running') - at('queued'),
        toTrainer: wall0 + ms - at('running'),
      };
      return { ms, answered, split };
    };
    const rawSample = async () => {
      const { argv, runDir } = template!;
      await sleep(IDLE_MS);
      const started = rawSignal.arm();
      const processing = nextMessage<{ type: string; at: number }>(rawWorker, 'started');
      const done = nextMessage<{ type: string; code: number }>(rawWorker, 'done');
      const t0 = nowMs();
      const env = { ...TRAINER_ENV, PYTHONPATH: STAND_IN_PATH, MLX_STANDIN_PID_FILE: rawSignal.file };
      await rawQueue.add('train', { argv, env, cwd: runDir }, { removeOnComplete: true, removeOnFail: true });
      const ms = (await started) - t0;
      const pickup = (await processing).at - t0;
      if ((await done).code !== 0) throw new Error('the raw trainer run failed');
      return { ms, pickup };
    };

    for (let i = 0; i < warm; i++) await projectSample();
    for (let i = 0; i < warm; i++) await rawSample();
    const series = new PercentileSeries();
    const answered: number[] = [];
    const splits: Split[] = [];
    const pickup: number[] = [];
    for (let r = 0; r < reps; r++) {
      const project: number[] = [];
      const raw: number[] = [];
      for (let i = 0; i < perRep; i++) {
        const a = await projectSample();
        project.push(a.ms);
        answered.push(a.answered);
        splits.push(a.split);
        const b = await rawSample();
        raw.push(b.ms);
        pickup.push(b.pickup);
      }
      const { sp, sr } = series.add(project, raw);
      ctx.log(
        `submit latency rep ${r + 1}/${reps}: project p50 ${sp.p50.toFixed(1)} p99 ${sp.p99.toFixed(1)} ms; raw p50 ${sr.p50.toFixed(1)} p99 ${sr.p99.toFixed(1)} ms`,
      );
    }
    const note =
      `${perRep} samples per repetition, alternating; trainer = the stand-in, run by the interpreter python3 resolves to (not a wrapper shim); ` +
      `project's HTTP answer p50 ${median(answered).toFixed(1)} ms; raw add->processor start p50 ${median(pickup).toFixed(2)} ms; ` +
      `project medians (epoch ms, 1 ms resolution): request -> row inserted ${median(splits.map((x) => x.toRow)).toFixed(0)} ms, ` +
      `row -> worker moved it to running ${median(splits.map((x) => x.toRunning)).toFixed(0)} ms, ` +
      `running -> trainer started ${median(splits.map((x) => x.toTrainer)).toFixed(0)} ms`;
    const spec = (name: string) => ({
      name,
      section: 'Submit',
      unit: 'ms',
      goal: '<= baseline + 5 ms',
      pass: (v: number, b: number | null) => (b === null ? null : v <= b + 5),
      baselineWhat: 'raw queue.add -> BullMQ worker -> child_process.spawn of the same trainer argv',
      note,
    });
    return series.figures('submit -> trainer started, idle queue', spec);
  } finally {
    client.close();
    poller.close();
    projectSignal.close();
    rawSignal.close();
    await worker.stop();
    await api.proc.stop();
    await closeRaw(rawWorker);
    await rawQueue.obliterate({ force: true }).catch(() => undefined);
    await rawQueue.close();
  }
}
