// Submits a follow-up job for the CLI and follows it to its end: a status line on stderr, the result on stdout.
import type { CreatedJob, JobDetail } from '../contract/jobs.js';
import { isJobFinal } from '../domain/follow-up-job.js';
import type { ApiClient } from './api-client.js';
import { type CliIo, EXIT, type ExitCode, printJson } from './cli-io.js';

/** POSTs `{kind, ...options}`, then polls the job; prints the result with `print` (or as JSON). */
export async function runFollowUp(
  api: ApiClient,
  io: CliIo,
  runId: string,
  body: Record<string, unknown>,
  opts: { json: boolean; print: (job: JobDetail) => string },
): Promise<ExitCode> {
  const created = await api.call<CreatedJob>('POST', `/v1/runs/${encodeURIComponent(runId)}/jobs`, {
    json: body,
  });
  for (const c of created.chain)
    io.err(`${c.kind} ${c.id} queued first (the export starts from a verified fuse)\n`);
  io.err(`${created.kind} ${created.id} queued\n`);
  const started = Date.now();
  let last = '';
  let job: JobDetail;
  for (;;) {
    job = await api.call<JobDetail>('GET', `/v1/jobs/${encodeURIComponent(created.id)}`);
    const line = `${job.kind} ${job.id}: ${job.status}`;
    if (io.isTty) io.err(`\r${line} (${Math.round((Date.now() - started) / 1000)}s)\x1b[K`);
    else if (line !== last) io.err(`${line}\n`);
    last = line;
    if (isJobFinal(job.status)) break;
    await io.sleep(500);
  }
  if (io.isTty) io.err('\n');
  if (opts.json) printJson(io, job);
  else if (job.status === 'succeeded') io.out(opts.print(job));
  if (job.status !== 'succeeded') {
    io.err(`error: ${job.kind} ${job.status}${job.error ? `: ${job.error}` : ''}\n`);
    return EXIT.runFailed;
  }
  return EXIT.ok;
}
