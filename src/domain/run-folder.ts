// Pure: the layout of a run's folder, DATA_DIR/runs/<run id>. Every path inside a run's folder (and inside its
// follow-up jobs' folders) comes from here, so the API, the workers, the reports and the CLI agree on it:
//
//   config.yaml             the trainer's --config (written by the worker from the run's configYaml)
//   train.log               the trainer's output as the worker saw it (kept under LOG_CAP_BYTES)
//   trainer.pid             the running trainer's pid, so a restarted worker can stop a leftover one
//   worker.lease.json       which worker holds the run (a job folder has its own)
//   adapters/               the trainer's --adapter-path: the adapter, its config and numbered checkpoints
//   adapters/attempt-<n>/   a resumed attempt's own files until they are settled (src/worker/attempt-adapters.ts)
//   jobs/<job id>/          a follow-up job: job.log, tool.pid, worker.lease.json and what the job writes
//   fused/<job id>/         a fuse job's model; exports/<name>/: an export job's output
// File names inside adapters/ are in checkpoint-names.ts.
import path from 'node:path';

/** The run's folder under the data folder. */
export function runDirOf(dataDir: string, runId: string): string {
  return path.join(dataDir, 'runs', runId);
}

/** The trainer's --adapter-path: where the adapter, its config and the checkpoints are written. */
export function adapterDirOf(runDir: string): string {
  return path.join(runDir, 'adapters');
}

export function configFileOf(runDir: string): string {
  return path.join(runDir, 'config.yaml');
}

export function trainLogOf(runDir: string): string {
  return path.join(runDir, 'train.log');
}

export function trainerPidFileOf(runDir: string): string {
  return path.join(runDir, 'trainer.pid');
}

/** The lease of a run's folder or of a job's folder. */
export function leaseFileOf(folder: string): string {
  return path.join(folder, 'worker.lease.json');
}

const ATTEMPT_DIR = /^attempt-(\d+)$/;

/** A resumed attempt's own adapter folder, inside the run's adapter folder. */
export function attemptDirOf(adapters: string, attempt: number): string {
  return path.join(adapters, `attempt-${attempt}`);
}

/** The attempt an adapter subfolder belongs to (`attempt-3` is 3), or null for any other name. */
export function attemptOfDirName(name: string): number | null {
  const m = ATTEMPT_DIR.exec(name);
  return m ? Number(m[1]) : null;
}

/** A follow-up job's folder inside its run's folder. */
export function jobDirOf(runDir: string, jobId: string): string {
  return path.join(runDir, 'jobs', jobId);
}

export function jobLogOf(jobDir: string): string {
  return path.join(jobDir, 'job.log');
}

export function toolPidFileOf(jobDir: string): string {
  return path.join(jobDir, 'tool.pid');
}

const JOB_OUTPUTS = { evaluation: 'eval.json', samples: 'samples.json', adapterCopy: 'adapters' } as const;

/** What a follow-up job writes into its own folder: an evaluation's report, samples, the adapter copy it scores. */
export function jobOutputOf(jobDir: string, what: keyof typeof JOB_OUTPUTS): string {
  return path.join(jobDir, JOB_OUTPUTS[what]);
}

/** A fuse job's model folder (fused/<job id>) or an export's output folder (exports/<name>) in the run's folder. */
export function outputDirOf(runDir: string, parent: 'fused' | 'exports', name: string): string {
  return path.join(runDir, parent, name);
}
