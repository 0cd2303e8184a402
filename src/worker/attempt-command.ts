// Prepares one attempt of a run on this worker: the trainer's command (as recorded at submit, built for this
// trainer's own flags, or resuming from a checkpoint) and the resume checkpoint on this disk (downloaded from the
// control plane's store when another Mac uploaded it).
import fs from 'node:fs';
import path from 'node:path';

import { buildCommand, TRAINER_ENV } from '../domain/build-command.js';
import { sameFlags, VERIFIED_FLAG_SET } from '../domain/flag-set.js';
import { adapterDirOf, attemptDirOf } from '../domain/run-folder.js';
import type { RunRequest } from '../domain/run-request.js';
import type { StartAttemptAnswer } from '../shared/report-protocol.js';
import { withAdapterPath } from './attempt-adapters.js';
import type { AttemptDeps, AttemptPlace } from './run-attempt.js';

export interface PreparedAttempt {
  argv: string[];
  env: Record<string, string>;
  configYaml: string;
  adapters: string;
  /** Set for a resumed attempt: its own adapter folder (see attempt-adapters.ts). */
  attemptDir: string | null;
}

/** The resume checkpoint on this disk: already here (own or shared folder), else downloaded from the store. */
async function ensureResumeFile(
  deps: AttemptDeps,
  adapters: string,
  resume: NonNullable<StartAttemptAnswer['resume']>,
): Promise<string> {
  const file = path.join(adapters, resume.name);
  const st = fs.statSync(file, { throwIfNoEntry: false });
  if (st?.isFile() && (resume.bytes === null || st.size === resume.bytes)) return file;
  if (resume.sha256 === null)
    throw new Error(`the checkpoint ${resume.name} to resume from is neither on this worker nor uploaded`);
  fs.mkdirSync(adapters, { recursive: true });
  await deps.reporter.download(resume.sha256, file);
  return file;
}

/** The attempt's command: the one recorded at submit, one built for this trainer's flags, or one resuming a checkpoint. */
export async function prepareAttempt(
  deps: AttemptDeps,
  started: StartAttemptAnswer,
  place: AttemptPlace,
): Promise<PreparedAttempt> {
  const adapters = adapterDirOf(place.runDir);
  const request = started.request as RunRequest;
  const ctx = { python: deps.config.mlxPython, runDir: place.runDir, dataDir: place.dataDir };
  const { resume } = started;
  const flagSet = deps.preflight.flagSet ?? undefined;
  // A trainer whose flags differ from the verified set gets a command built for them (never a flag it lacks).
  const own = flagSet !== undefined && !sameFlags(flagSet, VERIFIED_FLAG_SET);
  // A first attempt in the control plane's own run folder runs the command recorded at submit.
  if (!resume && started.runDir === place.runDir && !own)
    return {
      argv: started.argv,
      env: { ...TRAINER_ENV },
      configYaml: started.configYaml,
      adapters,
      attemptDir: null,
    };
  if (!resume) {
    const command = buildCommand(request, { ...ctx, flagSet });
    return {
      argv: command.argv,
      env: command.env,
      configYaml: command.configYaml,
      adapters,
      attemptDir: null,
    };
  }
  const adapterFile = await ensureResumeFile(deps, adapters, resume);
  const remainingIterations = Math.max(1, resume.total - resume.iteration);
  const command = buildCommand(request, { ...ctx, flagSet, resume: { adapterFile, remainingIterations } });
  const attemptDir = attemptDirOf(adapters, started.attempt);
  return {
    argv: withAdapterPath(command.argv, attemptDir),
    env: command.env,
    configYaml: command.configYaml,
    adapters,
    attemptDir,
  };
}
