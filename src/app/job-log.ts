// A follow-up job's log (job.log in its folder): its last lines for the job view, or the whole file.
import fs from 'node:fs';

import { jobLogOf } from '../domain/run-folder.js';

/** The log's last `lines` lines; none while the job has not written one. */
export function jobLogTail(jobDir: string, lines = 40): string[] {
  try {
    return fs.readFileSync(jobLogOf(jobDir), 'utf8').split('\n').filter(Boolean).slice(-lines);
  } catch {
    return [];
  }
}

/** The whole log as a stream, or '' while the job has not written one. */
export function readJobLog(jobDir: string): fs.ReadStream | string {
  const file = jobLogOf(jobDir);
  return fs.existsSync(file) ? fs.createReadStream(file) : '';
}
