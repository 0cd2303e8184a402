// Figures: POST /v1/datasets with a 256 MiB train.jsonl (quick: 64 MiB) streamed over a real socket to the project's
// API process: how much its resident memory grows at the peak (the upload is written to disk while hashed and
// checked, never held in memory), and the upload's speed.
import http from 'node:http';
import { Readable } from 'node:stream';

import type { BenchContext } from '../lib/context.js';
import { atMost, type Figure, makeFigure, reported } from '../lib/figure.js';
import { rssMb } from '../lib/processes.js';
import { deployment, startProjectApi } from '../lib/project.js';
import { nowMs } from '../lib/stats.js';

const BOUNDARY = '----mlxq-bench-upload';
const LINE = `{"text": "${'y'.repeat(1000)}"}\n`;

/** A multipart body of one train.jsonl part of about `bytes` bytes, produced as it is sent. */
async function* body(bytes: number): AsyncGenerator<Buffer> {
  yield Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="train.jsonl"; filename="train.jsonl"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const block = Buffer.from(LINE.repeat(64));
  for (let sent = 0; sent < bytes; sent += block.length) yield block;
  yield Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
}

function post(port: number, bytes: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `http://127.0.0.1:${port}/v1/datasets`,
      { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` } },
      (r) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    Readable.from(body(bytes)).pipe(req);
  });
}

export async function uploadMemory(ctx: BenchContext): Promise<Figure[]> {
  const reps = ctx.quick ? 1 : 3;
  const bytes = (ctx.quick ? 64 : 256) * 1024 * 1024;
  const growth: number[] = [];
  const speed: number[] = [];
  for (let r = 0; r < reps; r++) {
    const api = await startProjectApi(deployment(ctx, 'upload'));
    try {
      const before = rssMb(api.proc.pid).rss;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMb(api.proc.pid).rss)), 10);
      const t0 = nowMs();
      const res = await post(api.port, bytes).finally(() => clearInterval(sampler));
      const seconds = (nowMs() - t0) / 1000;
      if (res.status !== 201) throw new Error(`upload answered ${res.status}: ${res.text.slice(0, 300)}`);
      growth.push(peak - before);
      speed.push(bytes / 1024 / 1024 / seconds);
      ctx.log(
        `upload rep ${r + 1}/${reps}: peak RSS growth ${growth.at(-1)!.toFixed(0)} MB, ${speed.at(-1)!.toFixed(0)} MB/s`,
      );
    } finally {
      await api.proc.stop();
    }
  }
  const note = `one ${bytes / 1024 / 1024} MiB train.jsonl over a real socket; VmRSS of the API process sampled every 10 ms`;
  return [
    makeFigure(
      {
        name: 'dataset upload, API peak RSS growth',
        section: 'Memory',
        unit: 'MB',
        goal: '<= 160 MB',
        pass: atMost(160),
        note,
      },
      growth,
    ),
    makeFigure(
      { name: 'dataset upload, speed', section: 'Datasets', unit: 'MB/s', goal: null, pass: reported, note },
      speed,
    ),
  ];
}
