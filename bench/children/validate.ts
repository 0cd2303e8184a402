// Child process for the dataset-validation figure: `project <dir>` runs the project's validator twice (the
// second call must be a cache hit), `raw <dir>` runs a plain line split + JSON.parse loop over train.jsonl.
// Prints one JSON line: seconds, rows, bytes, idle and peak RSS (MB), and for the project the cache hit's time
// and the bytes it read (from /proc/self/io).
import fs from 'node:fs';
import path from 'node:path';

import { createDatasetValidator } from '../../src/datasets/validate-dataset.js';

const [mode, dir] = process.argv.slice(2) as ['project' | 'raw', string];
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const procKb = (key: string) =>
  Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1]);
const bytesRead = () => Number(/^rchar: (\d+)/m.exec(fs.readFileSync('/proc/self/io', 'utf8'))?.[1]);

function rawLoop(file: string): number {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let carry = '';
  let rows = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    let start = 0;
    for (let nl = buf.indexOf(10, 0); nl !== -1 && nl < n; nl = buf.indexOf(10, start)) {
      const line = carry + buf.toString('utf8', start, nl);
      carry = '';
      JSON.parse(line);
      rows++;
      start = nl + 1;
    }
    if (start < n) carry += buf.toString('utf8', start, n);
  }
  if (carry) {
    JSON.parse(carry);
    rows++;
  }
  fs.closeSync(fd);
  return rows;
}

const idleRssMb = procKb('VmRSS') / 1024;
const bytes = fs.statSync(path.join(dir, 'train.jsonl')).size;
const t0 = nowMs();
let rows: number;
let cache: { ms: number; bytesRead: number } | undefined;
if (mode === 'raw') {
  rows = rawLoop(path.join(dir, 'train.jsonl'));
} else {
  const validator = createDatasetValidator();
  const opts = { dir, mode: 'sft' as const, batchSize: 4 };
  const report = await validator.validate(opts);
  if (!report.ok) throw new Error(`dataset has problems: ${JSON.stringify(report.problems.slice(0, 3))}`);
  rows = report.splits.train.rows;
  const r0 = bytesRead();
  const c0 = nowMs();
  const again = await validator.validate(opts);
  cache = { ms: nowMs() - c0, bytesRead: bytesRead() - r0 };
  if (again.splits.train.rows !== rows) throw new Error('the cached report differs');
}
const seconds = (nowMs() - t0 - (cache?.ms ?? 0)) / 1000;
process.stdout.write(
  `${JSON.stringify({ mode, seconds, rows, bytes, idleRssMb, peakRssMb: procKb('VmHWM') / 1024, cache })}\n`,
);
