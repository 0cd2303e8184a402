// Follow-up jobs on remote workers: a control plane alone (no worker of its own, as START_WORKER=false) and remote
// worker processes, each with its own DATA_DIR. A run's evaluate, a proven fuse and an export run on a remote worker,
// which fetches the run's adapter by hash and reports over HTTP; their results and files are in the history and
// download with the recorded sha256. A worker killed -9 mid-fuse: the job finishes on another worker. A run placed on
// one worker (labels) has its follow-ups run there only, while another worker stands idle.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect } from 'vitest';

import { chaosIt, pidRunning } from '../helpers/chaos.js';
import { useFleet } from '../helpers/fleet.js';
import { sftRequest } from '../helpers/follow-up.js';
import { waitFor } from '../helpers/wait-for.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test JSON bodies

// The control plane queues `after` jobs through its reconciler: every second here.
const { fleet, unique } = useFleet({ RECONCILE_INTERVAL_S: '1' });
const tools: number[] = [];
afterEach(async () => {
  for (const pid of tools.splice(0)) if (await pidRunning(pid)) process.kill(-pid, 'SIGKILL');
});

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function get(url: string): Promise<Json> {
  const r = await fleet.cp.http<Json>('GET', url);
  expect(r.status, r.text).toBe(200);
  return r.json;
}

async function waitFinal(kind: 'runs' | 'jobs', id: string, timeoutMs = 120_000): Promise<Json> {
  return waitFor(
    async () => {
      const r = await get(`/v1/${kind}/${id}`);
      return ['succeeded', 'failed', 'cancelled'].includes(r.status as string) ? r : null;
    },
    { timeoutMs, what: `${kind} ${id} to end` },
  );
}

/** The requested job (an export's fuse, when one is made for it, is in `chain`). */
async function postJob(runId: string, body: Json): Promise<Json> {
  const r = await fleet.cp.http<Json>('POST', `/v1/runs/${runId}/jobs`, body);
  expect(r.status, r.text).toBe(201);
  return r.json;
}

/** The artifact's download over HTTP: its bytes hash to the recorded sha256 (and the header says the same). */
async function download(artifact: Json): Promise<Buffer> {
  const res = await fetch(`${fleet.cp.url}${artifact.downloadUrl as string}`);
  expect(res.status).toBe(200);
  const body = Buffer.from(await res.arrayBuffer());
  expect(sha256(body)).toBe(artifact.sha256);
  expect(res.headers.get('x-artifact-sha256')).toBe(artifact.sha256);
  return body;
}

async function artifactsOf(runId: string, jobId: string): Promise<Json[]> {
  return ((await get(`/v1/runs/${runId}/artifacts`)).items as Json[]).filter((a) => a.jobId === jobId);
}

async function trainedRun(extra: Json = {}): Promise<Json> {
  const r = await fleet.cp.http<Json>('POST', '/v1/runs', sftRequest(extra));
  expect(r.status, r.text).toBe(201);
  const run = await waitFinal('runs', r.json.id as string);
  expect(run.status, run.error as string).toBe('succeeded');
  return run;
}

describe('follow-up jobs on remote workers', () => {
  chaosIt(
    "a run's evaluate (after), a proven fuse and a GGUF export run on the remote worker; results and files are in the history",
    async () => {
      const a = await fleet.spawn(unique('mac-a'));
      const run = await trainedRun({ after: [{ kind: 'evaluate' }] });
      const evaluate = await waitFor(
        async () => ((await get(`/v1/runs/${run.id}/jobs`)).items as Json[])[0] ?? null,
        { timeoutMs: 30_000, what: 'the after job' },
      );
      const evaluated = await waitFinal('jobs', evaluate.id as string);
      expect(evaluated.status, evaluated.error as string).toBe('succeeded');
      expect(evaluated).toMatchObject({ worker: a.name, attempt: 1, origin: 'after' });
      expect(evaluated.result.test_loss).toBeGreaterThan(0);
      // The tool's output reached the control plane's job log.
      expect((evaluated.logTail as string[]).join('\n')).toContain('Test loss');
      const [report] = await artifactsOf(run.id as string, evaluated.id as string);
      expect(report).toMatchObject({ kind: 'eval_report' });
      expect(JSON.parse((await download(report!)).toString('utf8'))).toMatchObject({
        test_loss: evaluated.result.test_loss,
      });

      const fuseJob = await postJob(run.id as string, {
        kind: 'fuse',
        verify: { prompts: ['Hello there', 'Do you deliver?'], max_tokens: 24 },
      });
      const fuse = await waitFinal('jobs', fuseJob.id as string);
      expect(fuse.status, fuse.error as string).toBe('succeeded');
      expect(fuse).toMatchObject({ worker: a.name, result: { verified: true, dequantized: true } });
      // The fused model is kept on the control plane (its path), made on the worker (worker_path).
      expect(fuse.result.path).toBe(path.join(run.runDir as string, 'fused', fuse.id as string));
      expect(fuse.result.worker_path).toBe(
        path.join(a.dataDir, 'runs', run.id as string, 'fused', fuse.id as string),
      );
      const weights = (dir: string) => fs.readFileSync(path.join(dir, 'model.safetensors'));
      expect(weights(fuse.result.path as string).equals(weights(fuse.result.worker_path as string))).toBe(
        true,
      );
      const [fused] = await artifactsOf(run.id as string, fuse.id as string);
      expect(fused).toMatchObject({ kind: 'fused_model', isDir: true, verified: true });
      await download(fused!);
      // The worker fetched the run's adapter by hash: the same bytes as the control plane holds.
      const adapter = (root: string) =>
        fs.readFileSync(path.join(root, 'runs', run.id as string, 'adapters', 'adapters.safetensors'));
      expect(adapter(a.dataDir).equals(adapter(fleet.cp.dataDir))).toBe(true);

      const exportJob = await postJob(run.id as string, { kind: 'export', format: 'gguf' });
      expect(exportJob).toMatchObject({ kind: 'export', parentJobId: fuse.id });
      const exported = await waitFinal('jobs', exportJob.id as string);
      expect(exported.status, exported.error as string).toBe('succeeded');
      expect(exported).toMatchObject({ worker: a.name, result: { format: 'gguf', verified: true } });
      const [gguf] = await artifactsOf(run.id as string, exported.id as string);
      expect(gguf).toMatchObject({ kind: 'gguf', verified: true });
      expect((await download(gguf!)).subarray(0, 4).toString()).toBe('GGUF');
    },
    300_000,
  );

  chaosIt(
    'a run placed by labels on worker B: its after jobs and a requested job run on B only, while A (started first) idles',
    async () => {
      const a = await fleet.spawn(unique('mac-a'));
      const b = await fleet.spawn(unique('mac-b'), { WORKER_LABELS: 'studio' });
      const run = await trainedRun({
        placement: { labels: ['studio'] },
        after: [{ kind: 'fuse' }, { kind: 'evaluate' }, { kind: 'samples', prompts: ['Hello there'] }],
      });
      expect(run.worker).toBe(b.name);
      const after = await waitFor(
        async () => {
          const items = (await get(`/v1/runs/${run.id}/jobs`)).items as Json[];
          return items.length === 3 ? items : null;
        },
        { timeoutMs: 30_000, what: 'the after jobs' },
      );
      // Queued while B is busy with the first of them: an idle A would take the others if they were not placed.
      const requested = await postJob(run.id as string, { kind: 'evaluate' });
      const ids = [...after.map((j) => j.id as string), requested.id as string];
      for (const id of ids) {
        const job = await waitFinal('jobs', id);
        expect(job.status, job.error as string).toBe('succeeded');
        expect(job).toMatchObject({ worker: b.name, attempt: 1 });
      }
      // A never started one: no job of the run reached its DATA_DIR, and it is still alive and idle.
      expect(fs.existsSync(path.join(a.dataDir, 'runs', run.id as string))).toBe(false);
      expect(await pidRunning(a.child.pid!)).toBe(true);
    },
    300_000,
  );

  chaosIt(
    'kill -9 of the remote worker mid-fuse: the control plane queues the job again and it succeeds on another worker',
    async () => {
      const pidFile = path.join(fleet.cp.dataDir, `${unique('fuse')}.pid`);
      // A's fuse creates its folder with a partial shard, then writes for 120 s without a word.
      const a = await fleet.spawn(unique('mac-a'), {
        MLX_LM_STANDIN_SAVE_SECONDS: '120',
        MLX_LM_STANDIN_PID_FILE: pidFile,
      });
      const run = await trainedRun();
      const fuseJob = await postJob(run.id as string, {
        kind: 'fuse',
        verify: { prompts: ['Hello there'], max_tokens: 16 },
      });
      const id = fuseJob.id as string;
      await waitFor(
        async () => (await get(`/v1/jobs/${id}`)).status === 'running' && fs.existsSync(pidFile),
        { timeoutMs: 90_000, what: 'the fuse to run on A' },
      );
      expect((await get(`/v1/jobs/${id}`)).worker).toBe(a.name);
      const tool = Number.parseInt(fs.readFileSync(pidFile, 'utf8'), 10);
      tools.push(tool);
      // The Mac vanishes: its worker and its tool with it.
      a.child.kill('SIGKILL');
      await a.exited();
      if (await pidRunning(tool)) process.kill(-tool, 'SIGKILL');
      const b = await fleet.spawn(unique('mac-b'));
      const job = await waitFinal('jobs', id, 150_000);
      expect(job.status, job.error as string).toBe('succeeded');
      expect(job).toMatchObject({ worker: b.name, attempt: 2, result: { verified: true } });
      const events = (await get(`/v1/runs/${run.id}`)).events as Json[];
      expect(
        events.some((e) =>
          new RegExp(`${id}.*queued again: its worker ${a.name} is lost`).test(e.reason as string),
        ),
      ).toBe(true);
      const fused = await artifactsOf(run.id as string, id);
      expect(fused).toHaveLength(1);
      expect(fused[0]).toMatchObject({ kind: 'fused_model', verified: true });
      await download(fused[0]!);
    },
    300_000,
  );
});
