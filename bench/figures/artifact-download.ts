// Figures: artifact download throughput through GET /v1/artifacts/:id/download against a raw
// fs.createReadStream pipe, in the same run, and the API's resident memory while it streams 1 GB.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { recordArtifact } from '../../src/db/artifacts-repository.js';
import { closeDb, dbFilePath, openDb } from '../../src/db/client.js';
import { migrate } from '../../src/db/migrate.js';
import { insertRuns } from '../../src/db/runs-repository.js';
import { buildCommand } from '../../src/domain/build-command.js';
import { newRunRow } from '../../src/domain/new-run.js';
import { parseRunRequest } from '../../src/domain/run-request.js';
import { type BenchContext, subdir } from '../lib/context.js';
import { atLeastRatio, atMost, type Figure, makeFigure } from '../lib/figure.js';
import { type Proc, rssMb, runTs, waitLog } from '../lib/processes.js';
import { deployment, startProjectApi } from '../lib/project.js';
import { sftRequest } from '../lib/requests.js';

const MB = 1024 * 1024;

/** A file of `bytes` non-repeating-looking bytes (a 1 MiB random block, repeated), written in 1 MiB chunks. */
function writeFile(file: string, bytes: number): void {
  const block = randomBytes(MB);
  const fd = fs.openSync(file, 'w');
  for (let done = 0; done < bytes; done += MB) fs.writeSync(fd, block, 0, Math.min(MB, bytes - done));
  fs.closeSync(fd);
}

/** A succeeded run with one artifact (the file) in the deployment's database; returns the artifact id. */
function seedArtifact(dataDir: string, file: string): string {
  const db = openDb(dbFilePath(dataDir));
  try {
    migrate(db);
    const { request, warnings } = parseRunRequest(sftRequest(path.join(dataDir, 'inputs', 'sft-chat')));
    const runDir = path.join(dataDir, 'runs', 'run_bench');
    const command = buildCommand(request, { python: 'python3', runDir, dataDir: request.data });
    insertRuns(db, [newRunRow({ id: 'run_bench', request, warnings, runDir, command })]);
    const stat = fs.statSync(file);
    // The sha256 is not what is measured here; the download route only sends it as a header.
    recordArtifact(db, {
      id: 'art_bench',
      runId: 'run_bench',
      jobId: null,
      kind: 'gguf',
      path: file,
      isDir: false,
      bytes: stat.size,
      sha256: '0'.repeat(64),
      verified: null,
    });
    return 'art_bench';
  } finally {
    closeDb(db);
  }
}

interface Download {
  mbPerS: number;
  bytes: number;
  rssStart: number;
  rssMax: number;
}

/** GETs the URL, counts the bytes, and samples the server's RSS every 50 ms meanwhile. */
function download(port: number, urlPath: string, serverPid: number): Promise<Download> {
  return new Promise((resolve, reject) => {
    const rssStart = rssMb(serverPid).rss;
    let rssMax = rssStart;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssMb(serverPid).rss)), 50);
    const t0 = process.hrtime.bigint();
    let bytes = 0;
    http
      .get({ host: '127.0.0.1', port, path: urlPath }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode} for ${urlPath}`));
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => {
          clearInterval(sampler);
          const s = Number(process.hrtime.bigint() - t0) / 1e9;
          resolve({ mbPerS: bytes / MB / s, bytes, rssStart, rssMax });
        });
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function startRaw(dir: string, file: string): Promise<{ proc: Proc; port: number }> {
  const proc = runTs('bench/raw/raw-download.ts', {
    env: { RAW_FILE: file },
    logFile: path.join(dir, 'raw-download.log'),
  });
  await waitLog(proc, /^listening \d+$/m);
  const port = Number(/listening (\d+)/.exec(fs.readFileSync(proc.logFile, 'utf8'))![1]);
  return { proc, port };
}

export async function artifactDownload(ctx: BenchContext): Promise<Figure[]> {
  const size = (ctx.quick ? 256 : 1024) * MB;
  const reps = ctx.quick ? 2 : 3;
  const d = deployment(ctx, 'download');
  const file = path.join(subdir(ctx, 'artifact'), 'ggml-model-f16.gguf');
  writeFile(file, size);
  const id = seedArtifact(d.dataDir, file);
  const api = await startProjectApi(d);
  const raw = await startRaw(d.dataDir, file);
  const project: Download[] = [];
  const baseline: Download[] = [];
  try {
    // Alternate, so both read the file from the same page-cache state.
    for (let r = 0; r < reps; r++) {
      const p = await download(api.port, `/v1/artifacts/${id}/download`, api.proc.pid);
      const b = await download(raw.port, '/', raw.proc.pid);
      if (p.bytes !== size || b.bytes !== size)
        throw new Error(`short download: ${p.bytes} / ${b.bytes} of ${size}`);
      project.push(p);
      baseline.push(b);
      ctx.log(
        `download rep ${r + 1}/${reps}: API ${p.mbPerS.toFixed(0)} MiB/s (RSS ${p.rssStart.toFixed(0)} -> max ${p.rssMax.toFixed(0)} MB), raw ${b.mbPerS.toFixed(0)} MiB/s (RSS ${b.rssStart.toFixed(0)} -> ${b.rssMax.toFixed(0)} MB)`,
      );
    }
  } finally {
    await api.proc.stop();
    await raw.proc.stop();
    fs.rmSync(file, { force: true });
  }
  const note = `one ${size / MB} MiB file over loopback, read in full by a node:http client; ${reps} alternating repetitions after the file was written (warm page cache)`;
  return [
    makeFigure(
      {
        name: 'artifact download throughput',
        section: 'Artifacts',
        unit: 'MiB/s',
        goal: '>= 0.8x',
        pass: atLeastRatio(0.8),
        baselineWhat: 'a node:http server piping fs.createReadStream(file)',
        note,
      },
      project.map((p) => p.mbPerS),
      baseline.map((b) => b.mbPerS),
    ),
    makeFigure(
      {
        name: `API RSS growth during a ${size / MB} MiB download`,
        section: 'Artifacts',
        unit: 'MB',
        goal: '<= 64 MB',
        pass: atMost(64),
        baselineWhat: 'the raw pipe server',
        note: 'max VmRSS sampled every 50 ms during the download minus VmRSS at its start: flat means the file is streamed, not buffered',
      },
      project.map((p) => p.rssMax - p.rssStart),
      baseline.map((b) => b.rssMax - b.rssStart),
    ),
  ];
}
